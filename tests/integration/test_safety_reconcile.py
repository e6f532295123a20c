"""Reconciliation against the simulator: a clean start reconciles; an order the venue has but we do
not, and a balance changed from outside, each open the circuit breaker naming the mismatch, and
trading refuses until an operator closes it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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
from pydantic import SecretStr

from core.enums import BreakerState, TradingMode
from execution.reconcile import BreakerOpen, Reconciler, add_to_collateral_mark, require_trading_allowed
from execution.redeem import ChainRpc, Redeemer
from sinks.postgres.migrate import migrate
from sinks.postgres.safety import close_breaker, read_breaker
from tests.integration.safety_venue import client_for, running_sim
from tests.simulator.conftest import HARDHAT_ADDRESS, HARDHAT_KEY, RunningSim

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


def trade_as_we_record_it(sim: RunningSim, client: ClobClient, db: psycopg.Connection) -> None:
    """A window, a filled entry (order, fill, position of 10 shares) and a resting order, as rows."""
    m, up = sim.market, sim.market.up_token_id
    db.execute(
        "INSERT INTO windows (window_id, asset, interval_s, slug, condition_id, up_token_id, down_token_id,"
        " start_ts, end_ts) VALUES (%s, 'btc', 300, %s, %s, %s, %s, %s, %s)",
        (m.slug, m.slug, m.condition_id, up, m.down_token_id, m.start, m.end),
    )
    sim.quote(up, "SELL", "0.50", "100")
    bought = client.post_order(
        client.create_market_order(
            MarketOrderArgsV2(token_id=up, amount=5.0, side="BUY", order_type=OrderType.FOK)
        ),
        OrderType.FOK,
    )
    resting = client.post_order(
        client.create_order(OrderArgsV2(token_id=up, price=0.30, size=5.0, side="BUY")), OrderType.GTC
    )
    db.execute(
        "INSERT INTO positions (position_id, mode, window_id, token_id, strategy, state, size, avg_entry_price,"
        " cost_usd, opened_at, updated_at) VALUES ('pos-1', 'LIVE', %s, %s, 'canary', 'MONITORING', 10, 0.5, 5, %s, %s)",
        (m.slug, up, NOW, NOW),
    )
    for coid, vid, order_type, price, size, matched, status in (
        ("c-entry", bought["orderID"], "FOK", "0.5", "10", "10", "FILLED"),
        ("c-rest", resting["orderID"], "GTC", "0.3", "5", "0", "LIVE"),
    ):
        db.execute(
            "INSERT INTO orders (client_order_id, venue_order_id, mode, position_id, window_id, token_id, side,"
            " order_type, price, size, size_matched, status, created_at, updated_at)"
            " VALUES (%s, %s, 'LIVE', 'pos-1', %s, %s, 'BUY', %s, %s, %s, %s, %s, %s, %s)",
            (coid, vid, m.slug, up, order_type, price, size, matched, status, NOW, NOW),
        )
    (trade_id,) = bought["tradeIDs"]
    db.execute(
        "INSERT INTO fills (trade_id, mode, venue_order_id, client_order_id, window_id, token_id, side, price,"
        " size, fee_usd, status, is_maker, source_ts, recv_ts) VALUES (%s, 'LIVE', %s, 'c-entry', %s, %s, 'BUY',"
        " 0.5, 10, 0, 'CONFIRMED', false, %s, %s)",
        (trade_id, bought["orderID"], m.slug, up, NOW, NOW),
    )


def test_a_clean_start_reconciles_and_trading_is_allowed(
    venue: tuple[RunningSim, ClobClient], db: psycopg.Connection
) -> None:
    sim, client = venue
    trade_as_we_record_it(sim, client, db)
    reconciler = Reconciler(db, client, TradingMode.LIVE, "test")
    first = reconciler.run(NOW)
    assert first.clean, first.cause
    again = reconciler.run(NOW + timedelta(seconds=1))
    assert again.clean and not again.missing_fills and not again.settles, again.cause
    assert read_breaker(db).state is BreakerState.CLOSED
    require_trading_allowed(db)


def test_an_order_we_did_not_place_opens_the_breaker_until_an_operator_acts(
    venue: tuple[RunningSim, ClobClient], db: psycopg.Connection
) -> None:
    sim, client = venue
    trade_as_we_record_it(sim, client, db)
    reconciler = Reconciler(db, client, TradingMode.LIVE, "test")
    assert reconciler.run(NOW).clean
    stranger = client.post_order(
        client.create_order(OrderArgsV2(token_id=sim.market.down_token_id, price=0.20, size=5.0, side="BUY")),
        OrderType.GTC,
    )["orderID"]
    result = reconciler.run(NOW + timedelta(seconds=1))
    assert [(m.kind, m.subject) for m in result.mismatches] == [("venue_order_not_ours", stranger)]
    breaker = read_breaker(db)
    assert breaker.open and stranger in breaker.cause
    (alert,) = db.execute("SELECT severity, message FROM alerts WHERE kind = 'breaker.open'").fetchall()
    assert alert[0] == "CRITICAL" and stranger in alert[1]
    with pytest.raises(BreakerOpen, match=stranger):
        require_trading_allowed(db)
    close_breaker(db, "operator", "order placed by hand, cancelled", NOW + timedelta(minutes=1))
    require_trading_allowed(db)


def test_a_balance_changed_from_outside_opens_the_breaker_naming_it(
    venue: tuple[RunningSim, ClobClient], db: psycopg.Connection
) -> None:
    sim, client = venue
    trade_as_we_record_it(sim, client, db)
    reconciler = Reconciler(db, client, TradingMode.LIVE, "test")
    assert reconciler.run(NOW).clean
    before = (
        Decimal(
            client.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))["balance"]
        )
        / 1_000_000
    )
    answer = sim.admin("/balance", {"address": HARDHAT_ADDRESS, "asset": "COLLATERAL", "amount": "900"})
    assert answer.status_code == 200
    result = reconciler.run(NOW + timedelta(seconds=1))
    (mismatch,) = result.mismatches
    assert mismatch.kind == "collateral"
    assert "900" in mismatch.detail and str(before) in mismatch.detail
    assert read_breaker(db).open and "collateral" in read_breaker(db).cause


def test_a_token_balance_changed_from_outside_opens_the_breaker(
    venue: tuple[RunningSim, ClobClient], db: psycopg.Connection
) -> None:
    sim, client = venue
    trade_as_we_record_it(sim, client, db)
    reconciler = Reconciler(db, client, TradingMode.LIVE, "test")
    assert reconciler.run(NOW).clean
    sim.admin("/balance", {"address": HARDHAT_ADDRESS, "asset": sim.market.up_token_id, "amount": "3"})
    result = reconciler.run(NOW + timedelta(seconds=1))
    assert [(m.kind, m.subject) for m in result.mismatches] == [("position", sim.market.up_token_id)]
    assert read_breaker(db).open


def test_a_token_the_venue_lists_under_another_market_opens_the_breaker(
    venue: tuple[RunningSim, ClobClient], db: psycopg.Connection
) -> None:
    sim, client = venue
    trade_as_we_record_it(sim, client, db)
    db.execute("UPDATE windows SET condition_id = %s", ("0x" + "ee" * 32,))
    result = Reconciler(db, client, TradingMode.LIVE, "test").run(NOW)
    assert [(m.kind, m.subject) for m in result.mismatches] == [("token_unknown", sim.market.up_token_id)]
    assert read_breaker(db).open


def test_a_redemption_moves_the_collateral_expected_and_only_it(
    venue: tuple[RunningSim, ClobClient], db: psycopg.Connection
) -> None:
    sim, client = venue
    m = sim.market
    trade_as_we_record_it(sim, client, db)
    reconciler = Reconciler(db, client, TradingMode.LIVE, "test")
    assert reconciler.run(NOW).clean
    sim.call(sim.exchange.resolve_market, m.condition_id, m.up_token_id)
    receipt = Redeemer(ChainRpc(f"{sim.url}/rpc"), SecretStr(HARDHAT_KEY), client).redeem(
        m.condition_id, m.up_token_id
    )
    assert receipt.paid == Decimal(10)
    db.execute("UPDATE positions SET state = 'CLOSED', size = 0, closed_at = %s", (NOW,))
    db.execute("UPDATE orders SET status = 'CANCELED' WHERE status = 'LIVE'")  # resolution cancelled it
    unmarked = reconciler.run(NOW + timedelta(seconds=1))
    assert [m.kind for m in unmarked.mismatches] == ["collateral"], "a payout nobody booked is a mismatch"
    close_breaker(db, "operator", "checked", NOW + timedelta(seconds=2))
    add_to_collateral_mark(db, TradingMode.LIVE, receipt.paid, NOW + timedelta(seconds=2))
    booked = reconciler.run(NOW + timedelta(seconds=3))
    assert booked.clean, booked.cause
