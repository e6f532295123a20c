"""Exits on the simulator in LIVE: stop-loss and take-profit fire at their thresholds and sell at once
(FAK), the position closes with its P&L net of fees; a window that ended holds the position to
resolution, recorded."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from core.enums import TradingMode
from execution.exits import ExitManager
from polywindow.execution_wiring import build_manager
from tests.integration.execute_harness import intent_for, rows, venue_of
from tests.simulator.conftest import RunningSim

pytestmark = [pytest.mark.stack, pytest.mark.timeout(60)]
D = Decimal


@pytest.mark.parametrize(
    ("bid", "reason"), [("0.45", "STOP_LOSS"), ("0.65", "TAKE_PROFIT")], ids=["stop-loss", "take-profit"]
)
def test_a_trigger_at_its_threshold_sells_at_once_and_closes_net_of_fees(
    sim: RunningSim, conn: psycopg.Connection, bid: str, reason: str
) -> None:
    up = sim.market.up_token_id
    sim.quote(up, "SELL", "0.50", "100")
    manager = build_manager(TradingMode.LIVE, conn, venue=venue_of(sim))
    intent = intent_for(sim)
    assert manager.execute(intent).status == "FILLED"
    exits = ExitManager(manager)
    now = intent.event_ts
    above = D(bid) + (D("0.01") if reason == "STOP_LOSS" else D("-0.01"))
    assert exits.on_book(up, {above: D(100)}, now, sim.market.end) == [], "one tick short: no exit"
    sim.quote(up, "BUY", bid, "100")
    [done] = exits.on_book(up, {D(bid): D(100)}, now, sim.market.end)
    assert done.reason == reason and done.state.value == "CLOSED"
    [(state, pnl, fees, exit_reason)] = rows(
        conn, "SELECT state, realized_pnl_usd, fees_usd, exit_reason FROM positions"
    )
    sells = rows(conn, "SELECT price, size, fee_usd FROM fills WHERE side = 'SELL'")
    buys = rows(conn, "SELECT price, size, fee_usd FROM fills WHERE side = 'BUY'")
    assert sum(s for _p, s, _f in sells) == D(6)
    expected = sum(p * s - f for p, s, f in sells) - sum(p * s + f for p, s, f in buys)
    assert (state, exit_reason) == ("CLOSED", reason)
    assert pnl == expected and fees == sum(f for *_x, f in sells + buys)
    audit = rows(conn, "SELECT detail FROM audit_log WHERE action = 'exit'")[0][0]
    for key in ("trigger", "intended_price", "actual_price", "slippage_usd", "fees_usd"):
        assert audit[key] is not None, key


def test_a_window_that_ended_holds_the_position_to_resolution_and_says_so(
    sim: RunningSim, conn: psycopg.Connection
) -> None:
    up = sim.market.up_token_id
    sim.quote(up, "SELL", "0.50", "100")
    manager = build_manager(TradingMode.LIVE, conn, venue=venue_of(sim))
    assert manager.execute(intent_for(sim)).status == "FILLED"
    [held] = ExitManager(manager).on_book(up, {}, sim.market.end, sim.market.end)
    assert held.held and held.reason == "EXPIRY"
    assert rows(conn, "SELECT state, held_to_resolution, hold_reason, size FROM positions") == [
        ("EXIT_PENDING", True, "window_ended", D(6))
    ]


def test_a_lost_window_closes_with_the_pnl_the_account_shows_and_a_won_one_keeps_its_payout_due(
    sim: RunningSim, conn: psycopg.Connection
) -> None:
    up, down = sim.market.up_token_id, sim.market.down_token_id
    sim.quote(up, "SELL", "0.50", "100")
    venue = venue_of(sim)
    manager = build_manager(TradingMode.LIVE, conn, venue=venue)
    before = venue.balance()
    lost = intent_for(sim, 0, size="5")  # two of $2.50: within the $5 per-token cap
    won = intent_for(sim, 1, size="5", window_id="btc-updown-5m-won-window")
    assert manager.execute(lost).status == "FILLED"
    spent = before - venue.balance()
    assert manager.execute(won).status == "FILLED"
    exits = ExitManager(manager)
    [settled] = exits.on_resolved(lost.window_id, (up, down), down, sim.market.end)
    assert settled.state.value == "CLOSED"
    [(pnl,)] = rows(conn, "SELECT realized_pnl_usd FROM positions WHERE window_id = %s", lost.window_id)
    assert pnl == -spent, "the P&L of a lost position is the account's balance change, fees included"
    [due] = exits.on_resolved(won.window_id, (up, down), up, sim.market.end)
    assert due.state.value == "EXIT_PENDING" and due.held
    assert rows(conn, "SELECT state, size FROM positions WHERE window_id = %s", won.window_id) == [
        ("EXIT_PENDING", D(5))
    ]
