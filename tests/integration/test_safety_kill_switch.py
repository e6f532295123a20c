"""Each kill-switch level against the simulator, through the unmodified client, with PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import (
    AssetType,
    BalanceAllowanceParams,
    MarketOrderArgsV2,
    OrderArgsV2,
    OrderType,
)

from core.enums import BreakerState, KillSwitch, PositionState, Side
from core.kill_switch import HeldPosition, OurOrder
from execution.kill_switch import KillSwitchRunner
from sinks.postgres.migrate import migrate
from sinks.postgres.safety import read_breaker
from tests.integration.safety_venue import client_for, running_sim
from tests.simulator.conftest import RunningSim

NOW = datetime(2026, 12, 2, 1, 30, tzinfo=UTC)


@pytest.fixture
def db(fresh_database: str) -> Iterator[psycopg.Connection]:
    migrate(fresh_database)
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        yield conn


@pytest.fixture
def venue() -> Iterator[tuple[RunningSim, ClobClient]]:
    with running_sim() as sim:
        yield sim, client_for(sim)


def shares(client: ClobClient, token: str) -> Decimal:
    params = BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL, token_id=token)
    return Decimal(client.get_balance_allowance(params)["balance"]) / 1_000_000


def hold_position_and_rest_an_order(
    sim: RunningSim, client: ClobClient, bids: bool = True
) -> tuple[list[HeldPosition], list[OurOrder]]:
    up = sim.market.up_token_id
    sim.quote(up, "SELL", "0.50", "100")
    bought = client.post_order(
        client.create_market_order(
            MarketOrderArgsV2(token_id=up, amount=5.0, side="BUY", order_type=OrderType.FOK)
        ),
        OrderType.FOK,
    )
    assert bought["status"] == "matched"
    held = shares(client, up)
    assert held == Decimal(10)
    if bids:
        sim.quote(up, "BUY", "0.45", "100")
    resting = client.post_order(
        client.create_order(OrderArgsV2(token_id=up, price=0.30, size=5.0, side="BUY")), OrderType.GTC
    )
    assert resting["status"] == "live"
    positions = [HeldPosition("pos-1", up, held, PositionState.MONITORING)]
    return positions, [OurOrder(resting["orderID"], up, Side.BUY)]


def kill_switch_value(conn: psycopg.Connection) -> str:
    row = conn.execute("SELECT value #>> '{}' FROM runtime_controls WHERE name = 'kill_switch'").fetchone()
    assert row is not None
    return str(row[0])


def test_pause_refuses_entries_and_leaves_the_venue_alone(
    venue: tuple[RunningSim, ClobClient], db: psycopg.Connection
) -> None:
    sim, client = venue
    positions, orders = hold_position_and_rest_an_order(sim, client)
    report = KillSwitchRunner(client, db, "test").carry_out(KillSwitch.PAUSE, positions, orders, NOW)
    assert not report.plan.accept_entries and report.plan.accept_intents
    assert client.get_order(orders[0].venue_order_id)["status"] == "LIVE"
    assert shares(client, positions[0].token_id) == Decimal(10)
    assert read_breaker(db).state is BreakerState.CLOSED


def test_flatten_cancels_ours_sells_everything_then_pauses(
    venue: tuple[RunningSim, ClobClient], db: psycopg.Connection
) -> None:
    sim, client = venue
    positions, orders = hold_position_and_rest_an_order(sim, client)
    db.execute("UPDATE runtime_controls SET value = '\"FLATTEN\"' WHERE name = 'kill_switch'")
    report = KillSwitchRunner(client, db, "test").carry_out(KillSwitch.FLATTEN, positions, orders, NOW)
    assert report.canceled == (orders[0].venue_order_id,)
    assert client.get_order(orders[0].venue_order_id)["status"] == "CANCELED"
    (exit_,) = report.exits
    assert exit_.flattened and exit_.sold == Decimal(10) and exit_.venue_order_id
    assert shares(client, positions[0].token_id) == 0
    assert kill_switch_value(db) == "PAUSE"
    assert read_breaker(db).state is BreakerState.CLOSED


def test_flatten_without_bids_reports_the_position_not_flattened(
    venue: tuple[RunningSim, ClobClient], db: psycopg.Connection
) -> None:
    sim, client = venue
    positions, orders = hold_position_and_rest_an_order(sim, client, bids=False)
    report = KillSwitchRunner(client, db, "test").carry_out(KillSwitch.FLATTEN, positions, orders, NOW)
    (exit_,) = report.exits
    assert not exit_.flattened and exit_.sold == 0 and exit_.detail
    assert shares(client, positions[0].token_id) == Decimal(10)


def test_emergency_cancels_every_order_flattens_and_opens_the_breaker(
    venue: tuple[RunningSim, ClobClient], db: psycopg.Connection
) -> None:
    sim, client = venue
    positions, orders = hold_position_and_rest_an_order(sim, client)
    stranger = client.post_order(
        client.create_order(OrderArgsV2(token_id=sim.market.down_token_id, price=0.20, size=5.0, side="BUY")),
        OrderType.GTC,
    )["orderID"]
    report = KillSwitchRunner(client, db, "test").carry_out(KillSwitch.EMERGENCY, positions, orders, NOW)
    assert not report.plan.accept_intents
    assert set(report.canceled) == {orders[0].venue_order_id, stranger}
    assert client.get_open_orders() == []
    assert report.exits[0].flattened and shares(client, positions[0].token_id) == 0
    breaker = read_breaker(db)
    assert breaker.state is BreakerState.OPEN and "EMERGENCY" in breaker.cause
    alerts = db.execute("SELECT severity, message FROM alerts WHERE kind = 'breaker.open'").fetchall()
    assert alerts and alerts[0][0] == "CRITICAL" and "EMERGENCY" in alerts[0][1]
