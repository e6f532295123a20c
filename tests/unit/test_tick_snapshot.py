"""core.tick_snapshot: what the executor's snapshot compares, decided from plain records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.assertions import TickSnapshot, run_all
from core.enums import OrderStatus, TradingMode
from core.tick_snapshot import ExecutorRecords, OrderRecord, PositionRecord, build_snapshot, instrument_for

D = Decimal
AT = datetime(2031, 5, 1, 12, tzinfo=UTC)
NINETY = D(90)


def records(expected: Decimal | None = NINETY) -> ExecutorRecords:
    return ExecutorRecords(
        intent_ids=frozenset({"a", "b"}),
        orders=(
            OrderRecord("a", "0x1", OrderStatus.FILLED, "btc-updown-5m-1", AT - timedelta(minutes=1)),
            OrderRecord("b", "0x2", OrderStatus.FILLED, "w2", AT, "eth", 900, AT - timedelta(minutes=2)),
        ),
        fills=(),
        positions=(
            PositionRecord("p1", "t1", D(6), D(3), False, D(0), D(6), D(0), D(-3)),
            PositionRecord("p2", "t2", D(0), D(2), True, D("1.5"), D(4), D(4), D("1.5")),
            PositionRecord("p3", "t3", D(0), D(2), True, D(2), D(4), D(0), D(-2)),  # paid at resolution
        ),
        expected_balance=expected,
    )


def snap(
    mode: TradingMode, venue: dict[str, Decimal] | None, expected: Decimal | None = NINETY
) -> TickSnapshot:
    return build_snapshot(
        AT,
        mode,
        records(expected),
        venue_positions=venue,
        venue_balance=D(90),
        allowed_instruments=frozenset({"btc-5m", "eth-15m"}),
        max_position_usd=D(5),
        heartbeat_at=AT,
    )


def test_a_live_snapshot_of_agreeing_records_passes_all_ten() -> None:
    s = snap(TradingMode.LIVE, {"t1": D(6)})
    assert [c.name for c in run_all(s) if not c.passed] == []
    assert s.our_positions == {"t1": D(6)} and s.position_costs == {"p1": D(3)}
    assert (s.our_pnl_usd, s.recomputed_pnl_usd) == (D("1.5"), D("1.5")), "only positions exited by fills"


def test_live_compares_the_venue_and_the_expected_balance() -> None:
    s = snap(TradingMode.LIVE, {"t1": D(7)}, expected=D(80))
    failed = {c.name for c in run_all(s) if not c.passed}
    assert failed == {"position_count", "balance_match"}


def test_other_modes_have_nothing_at_the_venue_to_compare() -> None:
    s = snap(TradingMode.DRY_RUN, {"t1": D(7)}, expected=D(80))
    assert s.venue_positions == s.our_positions and s.our_balance_usd == s.venue_balance_usd


def test_no_mark_yet_takes_the_venue_balance() -> None:
    assert snap(TradingMode.LIVE, {"t1": D(6)}, expected=None).our_balance_usd == D(90)


def test_instruments_from_the_window_else_from_the_slug() -> None:
    assert instrument_for("x", "sol", 3600) == "sol-1h"
    assert instrument_for("btc-updown-5m-1767225600", None, None) == "btc-5m"
    assert instrument_for("bitcoin-up-or-down", None, None) == "bitcoin-up-or-down"
    s = snap(TradingMode.LIVE, {"t1": D(6)})
    assert [o.instrument for o in s.orders] == ["btc-5m", "eth-15m"]
    assert s.orders[0].window_start == AT - timedelta(minutes=1), "an unknown window starts with its order"
