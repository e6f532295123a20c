"""The kill switch in every mode, on one code path (the mode chooses only the fill source): FLATTEN's
and EMERGENCY's sells are in our rows (the exit order and its fills, the position through
EXIT_PENDING to CLOSED with exit reason FLATTEN, P&L net of fees, the exit's audit entry), PAUSE
refuses entries at the executor, and a won position's payout comes back (the paper balance)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest
from py_clob_client_v2.clob_types import AssetType, BalanceAllowanceParams, OrderArgsV2, OrderType

from core.enums import BreakerState, KillSwitch, TradingMode
from core.fees import FeeSchedule
from execution.executor_safety import ExecutorSafety
from execution.exits import ExitManager
from execution.kill_watch import KillWatch
from execution.order_manager import OrderManager
from polywindow.execution_wiring import FixedMarket, build_manager
from polywindow.kill_wiring import build_kill_watch, build_redemptions
from sinks.postgres.safety import read_breaker, set_kill_switch
from tests.integration.execute_harness import intent_for, record_window, rows, sim_orders_of, venue_of
from tests.integration.safety_venue import client_for
from tests.simulator.conftest import HARDHAT_ADDRESS, RunningSim

pytestmark = [pytest.mark.stack, pytest.mark.timeout(90)]
D = Decimal
BID = D("0.45")
MODES = list(TradingMode)


def _manager(mode: TradingMode, sim: RunningSim, conn: psycopg.Connection, **kw: object) -> OrderManager:
    return build_manager(
        mode,
        conn,
        venue=venue_of(sim) if mode is not TradingMode.BACKTEST else None,
        market=FixedMarket(D("0.01"), FeeSchedule(D("0.07"))),
        run_id="bt-kill" if mode is TradingMode.BACKTEST else None,
        **kw,  # type: ignore[arg-type]
    )


def _watch(manager: OrderManager, sim: RunningSim, conn: psycopg.Connection) -> tuple[KillWatch, ExitManager]:
    exits = ExitManager(manager)

    def replayed(_token: str) -> Mapping[Decimal, Decimal]:  # BACKTEST: the monitor's book
        return {BID: D(100)}

    watch = build_kill_watch(
        conn,
        manager,
        exits,
        lambda: datetime.now(UTC),
        venue=venue_of(sim) if manager.mode is not TradingMode.BACKTEST else None,
        book_bids=replayed,
        window_end=lambda _token: sim.market.end,
        run_id=manager.store.run_id,
    )
    return watch, exits


def _shares(sim: RunningSim, token: str) -> Decimal:
    params = BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL, token_id=token)
    return D(client_for(sim).get_balance_allowance(params)["balance"]) / 1_000_000


@pytest.mark.parametrize("mode", MODES, ids=[m.value for m in MODES])
def test_flatten_books_its_sell_in_our_rows_closes_with_reason_flatten_then_pauses(
    sim: RunningSim, conn: psycopg.Connection, mode: TradingMode
) -> None:
    up = sim.market.up_token_id
    sim.quote(up, "SELL", "0.50", "100")
    sim.quote(up, "BUY", str(BID), "100")
    manager = _manager(mode, sim, conn)
    intent = intent_for(sim, mode=mode)
    assert manager.execute(intent).status == "FILLED"
    watch, _exits = _watch(manager, sim, conn)
    set_kill_switch(conn, KillSwitch.FLATTEN, "ops", datetime.now(UTC))
    report = watch.run()
    assert report is not None
    (exit_,) = report.exits
    assert exit_.flattened and exit_.sold == D(6) and exit_.venue_order_id, exit_
    [(state, size, exit_reason, pnl, fees)] = rows(
        conn, "SELECT state, size, exit_reason, realized_pnl_usd, fees_usd FROM positions"
    )
    assert (state, size, exit_reason) == ("CLOSED", D(0), "FLATTEN")
    sells = rows(conn, "SELECT price, size, fee_usd FROM fills WHERE side = 'SELL'")
    buys = rows(conn, "SELECT price, size, fee_usd FROM fills WHERE side = 'BUY'")
    assert sum(s for _p, s, _f in sells) == D(6) and all(p == BID for p, _s, _f in sells)
    assert pnl == sum(p * s - f for p, s, f in sells) - sum(p * s + f for p, s, f in buys)
    assert fees == sum(f for *_x, f in sells + buys) and fees > 0
    assert rows(conn, "SELECT side, status, size_matched FROM orders WHERE side = 'SELL'") == [
        ("SELL", "FILLED", D(6))
    ]
    audit = rows(conn, "SELECT detail FROM audit_log WHERE action = 'exit'")[0][0]
    assert audit["trigger"] == "FLATTEN"
    for key in ("intended_price", "actual_price", "slippage_usd", "fees_usd"):
        assert audit[key] is not None, key
    assert D(audit["actual_price"]) == BID
    assert rows(conn, "SELECT value #>> '{}' FROM runtime_controls WHERE name = 'kill_switch'") == [
        ("PAUSE",)
    ]
    if mode is TradingMode.LIVE:
        assert _shares(sim, up) == 0, "sold at the venue"
    else:
        assert sim_orders_of(sim, HARDHAT_ADDRESS) == [], "nothing sent to the venue"
    assert watch.run() is None, "carried out once"


@pytest.mark.parametrize("mode", [TradingMode.LIVE, TradingMode.PAPER], ids=["LIVE", "PAPER"])
def test_emergency_cancels_flattens_opens_the_breaker_and_stops_intents(
    sim: RunningSim, conn: psycopg.Connection, mode: TradingMode
) -> None:
    up, down = sim.market.up_token_id, sim.market.down_token_id
    sim.quote(up, "SELL", "0.50", "100")
    sim.quote(up, "BUY", str(BID), "100")
    manager = _manager(mode, sim, conn)
    assert manager.execute(intent_for(sim, mode=mode)).status == "FILLED"
    client = client_for(sim)
    stranger = client.post_order(
        client.create_order(OrderArgsV2(token_id=down, price=0.20, size=5.0, side="BUY")), OrderType.GTC
    )["orderID"]
    watch, _exits = _watch(manager, sim, conn)
    set_kill_switch(conn, KillSwitch.EMERGENCY, "ops", datetime.now(UTC))
    report = watch.run()
    assert report is not None and not watch.accepting_intents
    assert report.exits[0].flattened
    breaker = read_breaker(conn)
    assert breaker.state is BreakerState.OPEN and "EMERGENCY" in breaker.cause
    assert rows(conn, "SELECT state, exit_reason FROM positions") == [("CLOSED", "FLATTEN")]
    audit = rows(conn, "SELECT detail FROM audit_log WHERE action = 'exit'")[0][0]
    assert audit["trigger"] == "EMERGENCY"
    at_venue = client.get_order(stranger)["status"]
    assert at_venue == ("CANCELED" if mode is TradingMode.LIVE else "LIVE"), "only LIVE touches the venue"


def test_the_executor_refuses_entries_under_pause_audited_and_trades_after_resume(
    sim: RunningSim, conn: psycopg.Connection
) -> None:
    sim.quote(sim.market.up_token_id, "SELL", "0.50", "100")
    safety = ExecutorSafety(conn, lambda: datetime.now(UTC))
    manager = _manager(TradingMode.PAPER, sim, conn, gate=safety.gate)
    for level in (KillSwitch.PAUSE, KillSwitch.FLATTEN, KillSwitch.EMERGENCY):
        set_kill_switch(conn, level, "ops", datetime.now(UTC))
        refused = intent_for(sim, 0, mode=TradingMode.PAPER, window_id=f"btc-updown-5m-{level.value.lower()}")
        result = manager.execute(refused)
        assert (result.status, result.rule) == ("BLOCKED", "kill_switch"), level
        assert rows(conn, "SELECT 1 FROM orders") == []
        detail = rows(
            conn,
            "SELECT detail FROM audit_log WHERE action = 'entry_blocked' AND subject = %s",
            refused.client_order_id,
        )[0][0]
        assert "kill_switch" in detail["execution_check"] and level.value in detail["execution_check"]
    set_kill_switch(conn, KillSwitch.RUN, "ops", datetime.now(UTC))
    assert manager.execute(intent_for(sim, 1, mode=TradingMode.PAPER)).status == "FILLED"


@pytest.mark.parametrize("mode", [TradingMode.PAPER, TradingMode.DRY_RUN], ids=["PAPER", "DRY_RUN"])
def test_a_won_simulated_position_is_redeemed_without_the_chain_and_credits_the_paper_balance(
    sim: RunningSim, conn: psycopg.Connection, mode: TradingMode
) -> None:
    up, down = sim.market.up_token_id, sim.market.down_token_id
    record_window(conn, sim)
    sim.quote(up, "SELL", "0.50", "100")
    manager = _manager(mode, sim, conn)
    intent = intent_for(sim, mode=mode)
    assert manager.execute(intent).status == "FILLED"
    paper_after_buy = manager.store.cash_delta()
    exits = ExitManager(manager)
    exits.on_resolved(intent.window_id, (up, down), up, sim.market.end)
    sweep = build_redemptions(
        conn, mode, exits, lambda: datetime.now(UTC), venue=None, private_key=None, rpc_url="unused"
    )
    assert sweep is not None and sweep.run() == 1
    [(state, payout, pnl)] = rows(conn, "SELECT state, payout_usd, realized_pnl_usd FROM positions")
    assert (state, payout) == ("CLOSED", D(6))
    assert manager.store.cash_delta() == paper_after_buy + D(6), "the payout is in the paper balance"
    assert pnl == manager.store.cash_delta(), "P&L = the paper balance's change, fees included"


def test_an_executor_of_another_mode_flattens_too_after_the_first_set_the_control_back_to_pause(
    sim: RunningSim, conn: psycopg.Connection
) -> None:
    sim.quote(sim.market.up_token_id, "SELL", "0.50", "100")
    sim.quote(sim.market.up_token_id, "BUY", str(BID), "100")
    watches = []
    for mode in (TradingMode.PAPER, TradingMode.DRY_RUN):
        manager = _manager(mode, sim, conn)
        assert manager.execute(intent_for(sim, mode=mode)).status == "FILLED"
        watches.append(_watch(manager, sim, conn)[0])
    first, second = watches
    set_kill_switch(conn, KillSwitch.FLATTEN, "ops", datetime.now(UTC))
    assert first.run() is not None
    assert rows(conn, "SELECT value #>> '{}' FROM runtime_controls WHERE name = 'kill_switch'") == [
        ("PAUSE",)
    ]
    report = second.run()  # it reads PAUSE now, and the audited FLATTEN it has not carried out
    assert report is not None and report.exits[0].flattened
    assert rows(conn, "SELECT mode, state, exit_reason FROM positions ORDER BY mode") == [
        ("DRY_RUN", "CLOSED", "FLATTEN"),
        ("PAPER", "CLOSED", "FLATTEN"),
    ]
    assert first.run() is None and second.run() is None, "each carried it out once"
