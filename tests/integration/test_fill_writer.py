from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.enums import Side, TradeStatus, TradingMode
from core.ids import TokenId, TradeId, VenueOrderId
from core.models import Fill
from core.timestamps import from_ms
from sinks.postgres.fills import write_fills
from sinks.postgres.migrate import migrate


def fill(n: int, status: TradeStatus = TradeStatus.MATCHED, recv_ms: int = 0, mode=TradingMode.LIVE) -> Fill:
    return Fill(
        source_ts=from_ms(1780906650000),
        recv_ts=from_ms(1780906650100 + recv_ms),
        source_id=f"trade-{n}",
        trade_id=TradeId(f"trade-{n}"),
        venue_order_id=VenueOrderId("0x" + "cd" * 32),
        client_order_id=None,
        window_id=None,
        token_id=TokenId("8213"),
        mode=mode,
        side=Side.BUY,
        price=Decimal("0.57"),
        size=Decimal("10"),
        fee_usd=Decimal("0.17157"),
        status=status,
        is_maker=False,
    )


@pytest.fixture
def db(fresh_database: str):
    migrate(fresh_database)
    with psycopg.connect(fresh_database) as conn:
        yield conn


def test_a_redelivered_batch_writes_each_fill_once(db: psycopg.Connection) -> None:
    batch = [fill(n) for n in range(50)]
    write_fills(db, batch)
    write_fills(db, batch)
    assert db.execute("SELECT count(*), sum(size), sum(fee_usd) FROM fills").fetchone() == (
        50,
        Decimal("500"),
        Decimal("8.57850"),
    )


def test_status_advances_but_a_final_status_is_never_overwritten(db: psycopg.Connection) -> None:
    write_fills(db, [fill(1, TradeStatus.MATCHED), fill(1, TradeStatus.CONFIRMED, recv_ms=5)])
    assert db.execute("SELECT status FROM fills").fetchone() == ("CONFIRMED",)
    write_fills(db, [fill(1, TradeStatus.MINED, recv_ms=9)])  # a late, stale frame
    assert db.execute("SELECT status FROM fills").fetchone() == ("CONFIRMED",)


def test_backtest_fills_are_kept_apart_per_run(db: psycopg.Connection) -> None:
    write_fills(db, [fill(1, mode=TradingMode.BACKTEST)], run_id="run-a")
    write_fills(db, [fill(1, mode=TradingMode.BACKTEST)], run_id="run-b")
    assert db.execute("SELECT count(*) FROM fills").fetchone() == (2,)


def test_a_late_earlier_status_never_moves_a_trade_back(db: psycopg.Connection) -> None:
    write_fills(db, [fill(1, TradeStatus.MINED, recv_ms=5)])
    write_fills(db, [fill(1, TradeStatus.MATCHED, recv_ms=9)])  # arrives late, and twice
    write_fills(db, [fill(1, TradeStatus.MATCHED, recv_ms=9)])
    assert db.execute("SELECT status FROM fills").fetchone() == ("MINED",)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.permutations([TradeStatus.MATCHED, TradeStatus.MINED, TradeStatus.CONFIRMED]), st.integers(1, 3))
def test_any_arrival_order_and_batching_ends_at_the_furthest_status(
    db: psycopg.Connection, order: list[TradeStatus], batch: int
) -> None:
    db.execute("DELETE FROM fills")
    frames = [fill(7, status, recv_ms=n) for n, status in enumerate(order)]
    for i in range(0, len(frames), batch):
        write_fills(db, frames[i : i + batch])
    assert db.execute("SELECT status FROM fills").fetchall() == [("CONFIRMED",)]
