"""Each kill-switch level against the simulator in LIVE, through the unmodified client, with our rows
in PostgreSQL: the runner as the executor builds it (`polywindow.kill_wiring`)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import AssetType, BalanceAllowanceParams, OrderArgsV2, OrderType

from core.enums import BreakerState, KillSwitch, Side, TradingMode
from core.kill_switch import FlattenExit, OurOrder
from execution.exits import ExitManager
from execution.fill_sources import VenueCancels, venue_bids
from execution.kill_switch import ExitResult, KillSwitchRunner
from execution.kill_watch import exit_through
from execution.order_manager import OrderManager
from polywindow.execution_wiring import build_manager
from sinks.postgres.executor_records import kill_switch_targets
from sinks.postgres.safety import read_breaker
from tests.integration.execute_harness import intent_for, rows, venue_of
from tests.integration.safety_venue import client_for
from tests.simulator.conftest import RunningSim

pytestmark = [pytest.mark.stack, pytest.mark.timeout(60)]
NOW = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)


def shares(client: ClobClient, token: str) -> Decimal:
    params = BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL, token_id=token)
    return Decimal(client.get_balance_allowance(params)["balance"]) / 1_000_000


def hold_and_rest(sim: RunningSim, conn: psycopg.Connection, bids: bool = True) -> tuple[OrderManager, str]:
    """A FILLED entry of 6 shares through the order manager, and a resting GTC order of ours."""
    up = sim.market.up_token_id
    sim.quote(up, "SELL", "0.50", "100")
    manager = build_manager(TradingMode.LIVE, conn, venue=venue_of(sim))
    assert manager.execute(intent_for(sim)).status == "FILLED"
    if bids:
        sim.quote(up, "BUY", "0.45", "100")
    client = client_for(sim)
    resting = client.post_order(
        client.create_order(OrderArgsV2(token_id=up, price=0.30, size=5.0, side="BUY")), OrderType.GTC
    )
    assert resting["status"] == "live"
    return manager, str(resting["orderID"])


def runner_for(sim: RunningSim, manager: OrderManager, conn: psycopg.Connection) -> KillSwitchRunner:
    venue = venue_of(sim)
    flatten = exit_through(ExitManager(manager), venue_bids(venue), lambda _t: sim.market.end)
    return KillSwitchRunner(VenueCancels(venue.client), flatten, conn, "test", settle=manager.recover)


def kill_switch_value(conn: psycopg.Connection) -> str:
    row = conn.execute("SELECT value #>> '{}' FROM runtime_controls WHERE name = 'kill_switch'").fetchone()
    assert row is not None
    return str(row[0])


def test_pause_leaves_the_venue_and_the_positions_alone(sim: RunningSim, conn: psycopg.Connection) -> None:
    _manager, resting = hold_and_rest(sim, conn)

    def never(step: FlattenExit, switch: KillSwitch, now: datetime) -> ExitResult:
        raise AssertionError("PAUSE exits nothing")

    venue = venue_of(sim)
    runner = KillSwitchRunner(VenueCancels(venue.client), never, conn, "test")
    positions, _ours = kill_switch_targets(conn, TradingMode.LIVE)
    report = runner.carry_out(KillSwitch.PAUSE, positions, [], NOW)
    assert not report.plan.accept_entries and report.plan.accept_intents
    client = client_for(sim)
    assert client.get_order(resting)["status"] == "LIVE"
    assert shares(client, sim.market.up_token_id) == Decimal(6)
    assert read_breaker(conn).state is BreakerState.CLOSED


def test_flatten_cancels_ours_sells_everything_into_our_rows_then_pauses(
    sim: RunningSim, conn: psycopg.Connection
) -> None:
    manager, resting = hold_and_rest(sim, conn)
    conn.execute("UPDATE runtime_controls SET value = '\"FLATTEN\"' WHERE name = 'kill_switch'")
    positions, _ours = kill_switch_targets(conn, TradingMode.LIVE)
    ours = [OurOrder(resting, sim.market.up_token_id, Side.BUY)]
    report = runner_for(sim, manager, conn).carry_out(KillSwitch.FLATTEN, positions, ours, NOW)
    client = client_for(sim)
    assert report.canceled == (resting,) and client.get_order(resting)["status"] == "CANCELED"
    (exit_,) = report.exits
    assert exit_.flattened and exit_.sold == Decimal(6) and exit_.venue_order_id
    assert shares(client, sim.market.up_token_id) == 0
    assert rows(conn, "SELECT state, exit_reason FROM positions") == [("CLOSED", "FLATTEN")]
    assert kill_switch_value(conn) == "PAUSE"
    assert read_breaker(conn).state is BreakerState.CLOSED


def test_flatten_without_bids_holds_the_position_to_resolution_and_says_so(
    sim: RunningSim, conn: psycopg.Connection
) -> None:
    manager, resting = hold_and_rest(sim, conn, bids=False)
    positions, _ours = kill_switch_targets(conn, TradingMode.LIVE)
    ours = [OurOrder(resting, sim.market.up_token_id, Side.BUY)]  # cancelled first: not a bid to sell into
    report = runner_for(sim, manager, conn).carry_out(KillSwitch.FLATTEN, positions, ours, NOW)
    (exit_,) = report.exits
    assert not exit_.flattened and exit_.sold == 0 and "no_bids" in exit_.detail
    assert shares(client_for(sim), sim.market.up_token_id) == Decimal(6)
    assert rows(conn, "SELECT state, exit_reason, held_to_resolution, hold_reason, size FROM positions") == [
        ("EXIT_PENDING", "FLATTEN", True, "book_too_thin:no_bids", Decimal(6))
    ]
