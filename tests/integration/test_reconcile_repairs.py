"""Reconciliation's repairs applied against the simulator: an order left UNKNOWN that the venue filled
is settled from the venue's answer (its size, price, trade ids; fees from the schedule), once, with an
audit entry; a venue-side position we do not know is never invented: it opens the breaker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from core.enums import TradingMode
from core.fees import trade_fee
from execution.reconcile import Reconciler
from polywindow.execution_wiring import build_manager
from sinks.postgres.safety import read_breaker
from tests.integration.execute_harness import intent_for, order_row, record_window, rows, venue_of
from tests.simulator.conftest import HARDHAT_ADDRESS, RunningSim

pytestmark = [pytest.mark.stack, pytest.mark.timeout(60)]
D = Decimal


def test_an_unknown_order_the_venue_filled_is_settled_by_reconciliation_from_the_venues_trades(
    sim: RunningSim, conn: psycopg.Connection
) -> None:
    up = sim.market.up_token_id
    sim.quote(up, "SELL", "0.48", "4")
    sim.quote(up, "SELL", "0.50", "100")
    record_window(conn, sim)
    venue = venue_of(sim)
    manager = build_manager(TradingMode.LIVE, conn, venue=venue, confirm_s=0.3)
    intent = intent_for(sim)
    # The POST lands but its answer is lost, and the venue cannot be asked during the confirmation.
    sim.admin(
        "/faults",
        {
            "drop_order_response_count": 1,
            "http_error_count": 10_000,
            "http_error_status": 500,
            "http_error_paths": ["/data/order"],
        },
    )
    assert manager.execute(intent).status == "UNKNOWN"
    assert order_row(conn, intent.client_order_id)[:2] == ("UNKNOWN", D(0))
    sim.admin("/faults/reset", {})

    reconciler = Reconciler(conn, venue.client, TradingMode.LIVE, "test", apply=manager.apply_repair)
    now = datetime.now(UTC)
    result = reconciler.run(now)
    assert result.clean, result.cause
    assert order_row(conn, intent.client_order_id)[:2] == ("FILLED", D(6))
    _tick, schedule = venue.market_info(up)
    fills = rows(conn, "SELECT price, size, fee_usd FROM fills ORDER BY price")
    assert fills == [
        (D("0.48"), D(4), trade_fee(schedule, D(4), D("0.48"))),
        (D("0.50"), D(2), trade_fee(schedule, D(2), D("0.50"))),
    ]
    venue_trades = [
        t
        for t in venue.client.get_trades()
        if t["taker_order_id"] == order_row(conn, intent.client_order_id)[2]
    ]
    assert sorted(t["id"] for t in venue_trades) == sorted(
        r[0] for r in rows(conn, "SELECT trade_id FROM fills")
    )
    assert rows(conn, "SELECT state, size FROM positions") == [("MONITORING", D(6))]
    [(detail,)] = rows(conn, "SELECT detail FROM audit_log WHERE action = 'reconcile_repair'")
    assert (detail["status"], detail["size_matched"], detail["reason"]) == ("FILLED", "6", "trades_missing")
    assert read_breaker(conn).state.value == "CLOSED"

    again = reconciler.run(now + timedelta(seconds=1))  # nothing left to repair, nothing written twice
    assert again.clean and not again.repairs, again.cause
    assert len(rows(conn, "SELECT 1 FROM audit_log WHERE action = 'reconcile_repair'")) == 1
    assert len(rows(conn, "SELECT 1 FROM fills")) == 2


def test_a_position_changed_at_the_venue_from_outside_is_never_invented_and_opens_the_breaker(
    sim: RunningSim, conn: psycopg.Connection
) -> None:
    up = sim.market.up_token_id
    sim.quote(up, "SELL", "0.50", "100")
    record_window(conn, sim)
    venue = venue_of(sim)
    manager = build_manager(TradingMode.LIVE, conn, venue=venue)
    intent = intent_for(sim)
    assert manager.execute(intent).status == "FILLED"
    reconciler = Reconciler(conn, venue.client, TradingMode.LIVE, "test", apply=manager.apply_repair)
    now = datetime.now(UTC)
    assert reconciler.run(now).clean
    sim.admin("/balance", {"address": HARDHAT_ADDRESS, "asset": up, "amount": "9"})
    result = reconciler.run(now + timedelta(seconds=1))
    assert [(m.kind, m.subject) for m in result.mismatches] == [("position", up)]
    assert not result.repairs
    assert rows(conn, "SELECT size FROM positions") == [(D(6),)], "no position made up from the venue's"
    assert read_breaker(conn).open and "position" in read_breaker(conn).cause
    assert rows(conn, "SELECT 1 FROM audit_log WHERE action = 'reconcile_repair'") == []
