"""LIVE execution against the simulator through py-clob-client-v2: fills, partial fills, and every
fault mode ending in the right order state, with never a second order."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from core.enums import TradingMode
from polywindow.execution_wiring import build_manager
from tests.integration.execute_harness import intent_for, order_row, rows, sim_orders_of, venue_of
from tests.simulator.conftest import HARDHAT_ADDRESS, RunningSim

pytestmark = [pytest.mark.stack, pytest.mark.timeout(60)]
D = Decimal


def test_live_fill_books_the_venues_trade_with_the_schedules_fee(
    sim: RunningSim, conn: psycopg.Connection
) -> None:
    sim.quote(sim.market.up_token_id, "SELL", "0.48", "4")
    sim.quote(sim.market.up_token_id, "SELL", "0.50", "100")
    manager = build_manager(TradingMode.LIVE, conn, venue=venue_of(sim))
    intent = intent_for(sim)
    result = manager.execute(intent)
    assert result.status == "FILLED"
    status, matched, vid = order_row(conn, intent.client_order_id)
    assert (status, matched) == ("FILLED", D("6"))
    [placed] = sim_orders_of(sim, HARDHAT_ADDRESS)
    assert placed.id == vid, "the order id stored before the POST is the venue's"
    fills = rows(conn, "SELECT price, size, fee_usd, intended_price FROM fills ORDER BY price")
    assert [(p, s) for p, s, _f, _i in fills] == [(D("0.48"), D("4")), (D("0.50"), D("2"))]
    assert all(i == D("0.50") for *_x, i in fills)
    position = rows(conn, "SELECT state, size, mode FROM positions")
    assert position == [("MONITORING", D("6"), "LIVE")]


def test_partial_fill_gives_a_position_of_the_filled_size(sim: RunningSim, conn: psycopg.Connection) -> None:
    sim.quote(sim.market.up_token_id, "SELL", "0.50", "100")
    sim.admin("/faults", {"partial_fill_ratio": "0.5"})
    manager = build_manager(TradingMode.LIVE, conn, venue=venue_of(sim))
    intent = intent_for(sim)
    assert manager.execute(intent).status == "PARTIALLY_FILLED"
    assert rows(conn, "SELECT state, size FROM positions") == [("MONITORING", D("3"))]


def test_lost_post_response_is_unknown_then_settled_by_the_venue_with_no_second_order(
    sim: RunningSim, conn: psycopg.Connection
) -> None:
    sim.quote(sim.market.up_token_id, "SELL", "0.50", "100")
    sim.admin("/faults", {"drop_order_response_count": 1})
    manager = build_manager(TradingMode.LIVE, conn, venue=venue_of(sim))
    intent = intent_for(sim)
    assert manager.execute(intent).status == "FILLED"
    audit = rows(conn, "SELECT detail->>'status' FROM audit_log WHERE action = 'order_result'")
    assert audit == [("FILLED",)]
    assert len(sim_orders_of(sim, HARDHAT_ADDRESS)) == 1
    assert manager.execute(intent).rule == "duplicate_intent"
    assert len(sim_orders_of(sim, HARDHAT_ADDRESS)) == 1


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        # A 5xx proves nothing: UNKNOWN, then the venue has no such order, so it was never placed.
        ({"http_error_count": 1, "http_error_status": 500, "http_error_paths": ["/order"]}, "REJECTED"),
        ({"rate_limit_count": 1, "retry_after_s": 0}, "FILLED"),
        (
            {
                "reject_order_count": 1,
                "reject_status": 400,
                "reject_message": "not enough balance / allowance",
            },
            "REJECTED",
        ),
        (
            {
                "reject_order_count": 1,
                "reject_status": 503,
                "reject_message": "Trading is currently cancel-only.",
            },
            "FILLED",
        ),
        ({"fail_trade_count": 1}, "CANCELED"),
    ],
    ids=["5xx", "429", "rejection", "503-retried", "failed-trade"],
)
def test_each_fault_mode_ends_in_the_right_state(
    sim: RunningSim, conn: psycopg.Connection, fault: dict[str, object], status: str
) -> None:
    sim.quote(sim.market.up_token_id, "SELL", "0.50", "100")
    manager = build_manager(TradingMode.LIVE, conn, venue=venue_of(sim))
    intent = intent_for(sim)
    sim.admin("/faults", fault)
    assert manager.execute(intent).status == status
    assert order_row(conn, intent.client_order_id)[0] == status
    assert len(sim_orders_of(sim, HARDHAT_ADDRESS)) <= 1
    filled = sum((o.size_matched for o in sim_orders_of(sim, HARDHAT_ADDRESS)), D(0))
    position = rows(conn, "SELECT size FROM positions")
    assert position == [(D(6) if status == "FILLED" else D(0),)]
    assert status != "FILLED" or filled == D(6)


def test_an_outside_balance_change_is_seen_before_the_entry_and_nothing_is_sent(
    sim: RunningSim, conn: psycopg.Connection
) -> None:
    from simulator.accounts import COLLATERAL

    sim.quote(sim.market.up_token_id, "SELL", "0.50", "100")
    manager = build_manager(TradingMode.LIVE, conn, venue=venue_of(sim))
    sim.call(sim.exchange.set_balance, HARDHAT_ADDRESS, COLLATERAL, D("2.50"))  # spent elsewhere
    result = manager.execute(intent_for(sim))
    assert (result.status, result.rule) == ("BLOCKED", "balance")
    assert sim_orders_of(sim, HARDHAT_ADDRESS) == []
    [(detail,)] = rows(conn, "SELECT detail FROM audit_log WHERE action = 'entry_blocked'")
    assert D(detail["balance_usd"]) == D("2.50")
