"""The ten runtime assertions: each passes on a consistent snapshot, fails naming its evidence on
the inconsistency it guards against; a snapshot runs all ten, in their fixed order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.assertions import (
    ASSERTION_NAMES,
    FillView,
    OrderView,
    TickSnapshot,
    balance_match,
    capital_cap,
    executor_heartbeat,
    fill_confirmation,
    instrument_scope,
    no_future_windows,
    no_null_order_ids,
    pnl_match,
    position_count,
    run_all,
    signal_order_mapping,
)
from core.enums import OrderStatus, TradeStatus

NOW = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)


def _order(coid: str, venue: str | None = "0x" + "a" * 64, **kw: object) -> OrderView:
    base: dict[str, object] = {
        "client_order_id": coid,
        "venue_order_id": venue,
        "status": OrderStatus.FILLED,
        "instrument": "btc-5m",
        "window_id": "btc-updown-5m-1",
        "window_start": NOW - timedelta(minutes=1),
    }
    base.update(kw)
    return OrderView(**base)  # type: ignore[arg-type]


def test_signal_order_mapping_needs_an_intent_for_each_order_and_one_order_per_intent() -> None:
    assert signal_order_mapping({"c1", "c2"}, [_order("c1")]).passed
    orphan = signal_order_mapping({"c1"}, [_order("c1"), _order("c9")])
    assert not orphan.passed and "c9" in orphan.evidence
    twice = signal_order_mapping({"c1"}, [_order("c1"), _order("c1")])
    assert not twice.passed and "c1" in twice.evidence


def test_fill_confirmation_fails_a_fill_left_unconfirmed_past_the_deadline() -> None:
    fresh = FillView("t1", TradeStatus.MATCHED, NOW - timedelta(seconds=5))
    done = FillView("t2", TradeStatus.CONFIRMED, NOW - timedelta(hours=1))
    assert fill_confirmation([fresh, done], NOW, timedelta(seconds=60)).passed
    stuck = FillView("t3", TradeStatus.MINED, NOW - timedelta(seconds=61))
    result = fill_confirmation([fresh, stuck], NOW, timedelta(seconds=60))
    assert not result.passed and "t3" in result.evidence


def test_position_count_compares_our_open_positions_with_the_venues() -> None:
    assert position_count({"tok1": Decimal("5"), "tok2": Decimal(0)}, {"tok1": Decimal("5")}).passed
    result = position_count({"tok1": Decimal("5")}, {"tok1": Decimal("5"), "tok7": Decimal("3")})
    assert not result.passed and "tok7" in result.evidence and "1" in result.evidence


def test_position_count_also_fails_a_size_that_differs() -> None:
    result = position_count({"tok1": Decimal("5")}, {"tok1": Decimal("4.5")})
    assert not result.passed and "tok1" in result.evidence


def test_pnl_match_allows_the_tolerance_only() -> None:
    assert pnl_match(Decimal("-1.25"), Decimal("-1.2500001"), Decimal("0.01")).passed
    result = pnl_match(Decimal("-1.25"), Decimal("3"), Decimal("0.01"))
    assert not result.passed and "-1.25" in result.evidence and "3" in result.evidence


def test_no_null_order_ids_fails_a_submitted_order_without_a_venue_id() -> None:
    assert no_null_order_ids([_order("c1"), _order("c2", None, status=OrderStatus.NEW)]).passed
    result = no_null_order_ids([_order("c3", None, status=OrderStatus.LIVE)])
    assert not result.passed and "c3" in result.evidence
    blank = no_null_order_ids([_order("c4", "", status=OrderStatus.UNKNOWN)])
    assert not blank.passed


def test_instrument_scope_fails_an_order_outside_the_allowed_instruments() -> None:
    allowed = frozenset({"btc-5m"})
    assert instrument_scope([_order("c1")], allowed).passed
    result = instrument_scope([_order("c1"), _order("c2", instrument="doge-5m")], allowed)
    assert not result.passed and "doge-5m" in result.evidence


def test_no_future_windows_fails_an_order_on_a_window_not_yet_started() -> None:
    assert no_future_windows([_order("c1")], NOW).passed
    later = _order("c2", window_id="btc-updown-5m-9", window_start=NOW + timedelta(minutes=5))
    result = no_future_windows([later], NOW)
    assert not result.passed and "btc-updown-5m-9" in result.evidence


def test_capital_cap_fails_a_position_over_the_cap() -> None:
    assert capital_cap({"p1": Decimal("5")}, Decimal("5")).passed
    result = capital_cap({"p1": Decimal("5.01")}, Decimal("5"))
    assert not result.passed and "p1" in result.evidence


def test_executor_heartbeat_fails_when_silent_or_never_seen() -> None:
    limit = timedelta(seconds=10)
    assert executor_heartbeat(NOW - timedelta(seconds=3), NOW, limit).passed
    assert not executor_heartbeat(NOW - timedelta(seconds=11), NOW, limit).passed
    never = executor_heartbeat(None, NOW, limit)
    assert not never.passed and "never" in never.evidence


def test_balance_match_compares_ours_with_the_venues() -> None:
    assert balance_match(Decimal("100.00"), Decimal("100.004"), Decimal("0.01")).passed
    result = balance_match(Decimal("100"), Decimal("95"), Decimal("0.01"))
    assert not result.passed and "95" in result.evidence


def _healthy() -> TickSnapshot:
    return TickSnapshot(
        at=NOW,
        intent_order_ids=frozenset({"c1"}),
        orders=(_order("c1"),),
        fills=(FillView("t1", TradeStatus.CONFIRMED, NOW - timedelta(seconds=30)),),
        our_positions={"tok1": Decimal("5")},
        venue_positions={"tok1": Decimal("5")},
        position_costs={"p1": Decimal("2.5")},
        our_pnl_usd=Decimal("1"),
        recomputed_pnl_usd=Decimal("1"),
        allowed_instruments=frozenset({"btc-5m"}),
        max_position_usd=Decimal("5"),
        executor_heartbeat_at=NOW - timedelta(seconds=1),
        our_balance_usd=Decimal("100"),
        venue_balance_usd=Decimal("100"),
    )


def test_a_consistent_snapshot_passes_all_ten_in_order() -> None:
    results = run_all(_healthy())
    assert [r.name for r in results] == list(ASSERTION_NAMES)
    assert len(ASSERTION_NAMES) == 10
    assert all(r.passed for r in results), [r for r in results if not r.passed]


def test_the_venue_holding_a_position_we_do_not_fails_position_count_only() -> None:
    from dataclasses import replace

    snap = replace(_healthy(), venue_positions={"tok1": Decimal("5"), "tok2": Decimal("10")})
    failed = [r for r in run_all(snap) if not r.passed]
    assert [r.name for r in failed] == ["position_count"]
    assert "tok2" in failed[0].evidence
