"""The canary campaign's judgement on windows traded by the LIVE executor through py-clob-client-v2 on
the simulator: two windows (one resolving Up, one Down) pass every check; a fill the venue reports
but we never recorded, or a balance changed from outside, fails exactly the checks that see it.

The windows' outcomes are written to `windows` as `flow` (ours) and `feeds` (Gamma's) write them:
the test simulator's ad-hoc markets are not in its Gamma calendar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from core.enums import OrderType, Outcome, Side, TradingMode
from core.intents import client_order_id_for, signal_id_for
from core.models import DecisionContext, Level, OrderIntent, Signal
from execution.exits import ExitManager
from polywindow.campaign_canary import CampaignResult, evaluate
from polywindow.execution_wiring import build_manager
from simulator.accounts import COLLATERAL
from tests.integration.execute_harness import venue_of
from tests.simulator.conftest import HARDHAT_ADDRESS, RunningSim, make_market

pytestmark = [pytest.mark.stack, pytest.mark.timeout(60)]
D = Decimal


@dataclass(frozen=True)
class Traded:
    window_id: str
    up: str
    down: str
    condition_id: str
    end: datetime


def _intent(window_id: str, token: str, outcome: Outcome) -> OrderIntent:
    """The canary's decision: $3 of the favoured side at its ask (0.50), FAK."""
    sid = signal_id_for(window_id, "canary", 0)
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    signal = Signal(
        signal_id=sid,
        window_id=window_id,
        strategy="canary",
        token_id=token,
        outcome=outcome,
        side=Side.BUY,
        limit_price=D("0.50"),
        notional_usd=D("3"),
        event_ts=at,
    )
    context = DecisionContext(
        up_asks=(Level(price=D("0.50"), size=D(100)),),
        signal=signal,
        risk_result="APPROVED FAK 6 @ 0.50",
        controls_version=1,
        event_ts=at,
    )
    return OrderIntent(
        client_order_id=client_order_id_for(sid),
        signal_id=sid,
        window_id=window_id,
        strategy="canary",
        token_id=token,
        side=Side.BUY,
        order_type=OrderType.FAK,
        limit_price=D("0.50"),
        size=D(6),
        mode=TradingMode.LIVE,
        event_ts=at,
        context=context,
    )


def _open_windows(sim: RunningSim, conn: psycopg.Connection) -> list[Traded]:
    second = make_market(2)
    sim.call(sim.exchange.add_market, second)
    found = []
    for m in (sim.market, second):
        window_id = m.slug.lower()
        conn.execute(
            "INSERT INTO windows (window_id, asset, interval_s, slug, condition_id, up_token_id, down_token_id,"
            " start_ts, end_ts) VALUES (%s, 'btc', 300, %s, %s, %s, %s, %s, %s)",
            (window_id, window_id, m.condition_id, m.up_token_id, m.down_token_id, m.start, m.end),
        )
        found.append(Traded(window_id, m.up_token_id, m.down_token_id, m.condition_id, m.end))
    return found


def _campaign(
    sim: RunningSim, conn: psycopg.Connection, between: object = None
) -> tuple[CampaignResult, list[Traded]]:
    """Two windows through the LIVE executor: window 0 buys Up and resolves Down, window 1 buys Down
    and resolves Up (both lost, so both close without a redemption); then the campaign's judgement."""
    venue = venue_of(sim)
    started = datetime.now(UTC)
    before = venue.balance()
    manager = build_manager(TradingMode.LIVE, conn, venue=venue)
    exits = ExitManager(manager)
    windows = _open_windows(sim, conn)
    plan = [
        (windows[0], windows[0].up, Outcome.UP, "DOWN"),
        (windows[1], windows[1].down, Outcome.DOWN, "UP"),
    ]
    for w, token, side, _resolved in plan:
        sim.quote(token, "SELL", "0.50", "100")  # one book per market: the other side's ask is this one's bid
        assert manager.execute(_intent(w.window_id, token, side)).status == "FILLED"
        [held] = exits.on_book(token, {}, w.end, w.end)  # the monitor sees the window end: held
        assert held.held
    if callable(between):
        between(venue, windows)
    for w, _token, _side, resolved in plan:
        winner = w.up if resolved == "UP" else w.down
        sim.call(sim.exchange.resolve_market, w.condition_id, winner)
        conn.execute(
            "UPDATE windows SET our_outcome = %s, venue_outcome = %s WHERE window_id = %s",
            (resolved, resolved, w.window_id),
        )
        exits.on_resolved(w.window_id, (w.up, w.down), winner, w.end)
    result = evaluate(
        conn,
        venue,
        run_id=f"test-{started.timestamp()}",
        window_ids=[w.window_id for w in windows],
        started_at=started,
        finished_at=datetime.now(UTC),
        balance_before_usd=before,
        gamma_url=None,
        params={"windows": 2},
    )
    return result, windows


def _failed(result: CampaignResult) -> set[tuple[str, str | None]]:
    return {(c.name, c.window_id) for c in result.failed}


def test_a_clean_campaign_passes_every_check_and_is_stored(sim: RunningSim, conn: psycopg.Connection) -> None:
    result, _windows = _campaign(sim, conn)
    assert _failed(result) == set(), [c for c in result.failed]
    names = {c.name for _v, c in result.checks}
    assert {"signal", "fill", "monitoring", "settlement", "venue_resolution", "pnl", "balance"} <= names
    stored = conn.execute("SELECT windows, failed, passed FROM campaign_runs").fetchall()
    assert stored == [(2, 0, True)]
    [(count,)] = conn.execute("SELECT count(*) FROM campaign_checks WHERE passed").fetchall()
    assert count == len(result.checks)


def test_a_fill_the_venue_reports_but_we_never_recorded_fails_the_fill_check_naming_the_trade(
    sim: RunningSim, conn: psycopg.Connection
) -> None:
    def outside_order(venue: object, windows: list[Traded]) -> None:
        other = venue_of(sim)  # the same account, another client: the venue books it, we do not
        tick, _schedule = other.market_info(windows[0].up)
        signed = other.sign(windows[0].up, Side.BUY, D("0.50"), D(2), OrderType.FAK, tick, "")
        other.post(signed.body)

    result, windows = _campaign(sim, conn, outside_order)
    # The unrecorded trade is seen where it is: in window 0's fills, and (it spent collateral) in the
    # account's balance; every other check, the other window's included, still passes.
    assert _failed(result) == {("fill", windows[0].window_id), ("balance", None)}
    [fill] = [c for c in result.failed if c.name == "fill"]
    assert "not in our fills" in fill.evidence
    assert conn.execute("SELECT passed FROM campaign_runs").fetchall() == [(False,)]


def test_a_balance_changed_from_outside_fails_the_balance_check_alone(
    sim: RunningSim, conn: psycopg.Connection
) -> None:
    def deposit(venue: object, _windows: list[Traded]) -> None:
        held = sim.call(sim.exchange.balance, HARDHAT_ADDRESS, COLLATERAL)
        sim.call(sim.exchange.set_balance, HARDHAT_ADDRESS, COLLATERAL, held + D("7.25"))

    result, _windows = _campaign(sim, conn, deposit)
    assert _failed(result) == {("balance", None)}
    [balance] = result.failed
    assert "7.25" in balance.evidence or "realized" in balance.evidence
