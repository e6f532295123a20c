"""core.exits: one fixed priority, each rule firing exactly at its threshold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.enums import ExitReason
from core.exits import (
    EXIT_PRIORITY,
    ExitConfig,
    ExitOrder,
    HoldToResolution,
    decide_exit,
    exit_plan,
)
from core.fees import FeeSchedule
from core.positions import EntryDone, EntryTrade, Mark, Position, Triggered, apply

D = Decimal
START = datetime(2026, 6, 8, 8, 15, tzinfo=UTC)
END = START + timedelta(minutes=5)
NOW = START + timedelta(minutes=2)
CRYPTO = FeeSchedule(D("0.07"), 1, True, D("0.2"))


TEN = D("10")


def _position(price: Decimal, size: Decimal = TEN, peak: Decimal | None = None) -> Position:
    p = apply(Position("pos-1"), EntryTrade("t1", size, price, D("0"), price))
    p = apply(p, EntryDone())
    return p if peak is None else apply(p, Mark(peak))


def test_defaults_are_the_seeds() -> None:
    cfg = ExitConfig()
    assert (cfg.stop_loss_pct, cfg.take_profit_pct, cfg.trailing_pct) == (D("0.10"), D("0.30"), None)
    alt = ExitConfig.trailing()
    assert (alt.stop_loss_pct, alt.take_profit_pct, alt.trailing_pct) == (D("0.10"), None, D("0.20"))


def test_the_priority_order_is_fixed() -> None:
    assert EXIT_PRIORITY == (
        ExitReason.STOP_LOSS,
        ExitReason.TAKE_PROFIT,
        ExitReason.TRAILING_TAKE_PROFIT,
        ExitReason.EXPIRY,
    )


def test_stop_beats_expiry_and_an_empty_book_only_expires() -> None:
    p = _position(D("0.50"))
    assert decide_exit(p, D("0.40"), END, END).reason is ExitReason.STOP_LOSS  # type: ignore[union-attr]
    assert decide_exit(p, None, NOW, END) is None
    assert decide_exit(p, None, END, END).reason is ExitReason.EXPIRY  # type: ignore[union-attr]


def test_expiry_lead_time() -> None:
    cfg = ExitConfig(expiry_before=timedelta(seconds=30))
    p = _position(D("0.50"))
    assert decide_exit(p, D("0.5"), END - timedelta(seconds=31), END, cfg) is None
    assert decide_exit(p, D("0.5"), END - timedelta(seconds=30), END, cfg) is not None


def test_only_monitoring_positions_are_decided() -> None:
    p = apply(_position(D("0.50")), Triggered(ExitReason.TAKE_PROFIT))
    assert decide_exit(p, D("0.01"), END, END) is None
    assert decide_exit(Position("pos-2"), D("0.01"), END, END) is None


cents = st.integers(2, 98).map(lambda c: D(c) / 100)
pcts = st.integers(1, 99).map(lambda c: D(c) / 100)


@given(cents, pcts)
def test_stop_loss_fires_exactly_at_its_threshold(entry: Decimal, pct: Decimal) -> None:
    cfg = ExitConfig(stop_loss_pct=pct, take_profit_pct=None)
    threshold = entry * (1 - pct)
    p = _position(entry)
    at = decide_exit(p, threshold, NOW, END, cfg)
    assert at is not None and at.reason is ExitReason.STOP_LOSS and at.threshold == threshold
    assert decide_exit(p, threshold + D("0.000001"), NOW, END, cfg) is None


@given(cents, pcts)
def test_take_profit_fires_exactly_at_its_threshold(entry: Decimal, pct: Decimal) -> None:
    threshold = entry * (1 + pct)
    cfg = ExitConfig(stop_loss_pct=None, take_profit_pct=pct)
    p = _position(entry)
    fired = decide_exit(p, threshold, NOW, END, cfg) if threshold <= 1 else None
    if threshold <= 1:
        assert fired is not None and fired.reason is ExitReason.TAKE_PROFIT
    assert decide_exit(p, threshold - D("0.000001"), NOW, END, cfg) is None


@given(cents, st.integers(1, 99).map(lambda c: D(c) / 100), pcts)
def test_trailing_fires_exactly_pct_below_a_peak_above_entry(
    entry: Decimal, peak: Decimal, pct: Decimal
) -> None:
    cfg = ExitConfig(stop_loss_pct=None, take_profit_pct=None, trailing_pct=pct)
    p = _position(entry, peak=peak)
    floor = peak * (1 - pct)
    at = decide_exit(p, floor, NOW, END, cfg)
    if peak > entry:
        assert at is not None and at.reason is ExitReason.TRAILING_TAKE_PROFIT and at.threshold == floor
    else:
        assert at is None  # never armed: the price never rose above the entry
    assert decide_exit(p, floor + D("0.000001"), NOW, END, cfg) is None


def _holds(
    reason: ExitReason, entry: Fraction, bid: Fraction, peak: Fraction, late: bool, cfg: ExitConfig
) -> bool:
    """The rules, restated in Fractions: an independent reference for the priority test."""
    if reason is ExitReason.STOP_LOSS:
        return cfg.stop_loss_pct is not None and bid <= entry * (1 - Fraction(cfg.stop_loss_pct))
    if reason is ExitReason.TAKE_PROFIT:
        return cfg.take_profit_pct is not None and bid >= entry * (1 + Fraction(cfg.take_profit_pct))
    if reason is ExitReason.TRAILING_TAKE_PROFIT:
        top = max(peak, bid)
        return cfg.trailing_pct is not None and top > entry and bid <= top * (1 - Fraction(cfg.trailing_pct))
    return late


@given(
    cents,
    cents,
    cents,
    st.booleans(),
    st.one_of(st.none(), pcts),
    st.one_of(st.none(), pcts),
    st.one_of(st.none(), pcts),
)
def test_the_first_rule_that_holds_in_priority_order_is_the_decision(
    entry: Decimal,
    bid: Decimal,
    peak: Decimal,
    late: bool,
    sl: Decimal | None,
    tp: Decimal | None,
    trail: Decimal | None,
) -> None:
    cfg = ExitConfig(stop_loss_pct=sl, take_profit_pct=tp, trailing_pct=trail)
    p = _position(entry, size=D("3"), peak=peak)
    decision = decide_exit(p, bid, END if late else NOW, END, cfg)
    holding = [
        r for r in EXIT_PRIORITY if _holds(r, Fraction(entry), Fraction(bid), Fraction(peak), late, cfg)
    ]
    assert (decision.reason if decision else None) == (holding[0] if holding else None)


def test_exit_plan_sells_what_is_held_into_the_bids() -> None:
    p = apply(_position(D("0.50")), Triggered(ExitReason.STOP_LOSS))
    plan = exit_plan(p, {D("0.44"): D("4"), D("0.43"): D("100")}, CRYPTO, D("0.01"), NOW, END)
    assert isinstance(plan, ExitOrder)
    assert plan.size == D("10") and plan.limit_price == D("0.43")  # the bid covering the 10 shares
    assert plan.expected.filled_size == D("10") and plan.expected.intended_price == D("0.44")


@pytest.mark.parametrize(
    ("bids", "now", "reason"),
    [
        ({}, NOW, "book_too_thin:no_bids"),
        ({D("0.05"): D("100")}, NOW, "book_too_thin:below_minimum"),  # 10 shares x $0.05 < $1
        ({D("0.44"): D("0")}, NOW, "book_too_thin:no_bids"),
        ({D("0.44"): D("100")}, END, "window_ended"),
    ],
)
def test_exit_plan_holds_to_resolution_when_the_book_cannot_take_it(
    bids: dict[Decimal, Decimal], now: datetime, reason: str
) -> None:
    p = apply(_position(D("0.50")), Triggered(ExitReason.STOP_LOSS))
    assert exit_plan(p, bids, CRYPTO, D("0.01"), now, END) == HoldToResolution(reason)


def test_exit_plan_with_a_floor_above_the_bids_holds() -> None:
    p = apply(_position(D("0.50")), Triggered(ExitReason.STOP_LOSS))
    plan = exit_plan(p, {D("0.44"): D("100")}, CRYPTO, D("0.01"), NOW, END, floor_price=D("0.45"))
    assert plan == HoldToResolution("book_too_thin:no_match")


def test_exit_plan_sells_what_the_bids_hold_when_they_are_short() -> None:
    p = apply(_position(D("0.50")), Triggered(ExitReason.STOP_LOSS))
    plan = exit_plan(p, {D("0.44"): D("4"), D("0.40"): D("3")}, CRYPTO, D("0.01"), NOW, END)
    assert isinstance(plan, ExitOrder)
    assert plan.limit_price == D("0.40") and plan.expected.filled_size == D("7")


@given(
    price=st.decimals(min_value=D("0.05"), max_value=D("0.95"), places=2),
    size=st.decimals(min_value=D("1"), max_value=D("500"), places=2),
)
def test_the_stop_level_shown_is_where_the_stop_loss_fires(price: Decimal, size: Decimal) -> None:
    """core.operator_view shows `stop_price`; a bid a tick under it fires STOP_LOSS with that
    threshold, a bid a tick over it does not."""
    from core.exits import stop_price
    from core.operator_view import position_mark

    position = _position(price, size)
    level = stop_price(position.entry_cost, position.entry_size, ExitConfig())
    assert level is not None and position_mark(size, position.entry_cost, None)["stop_level"] == level
    below = decide_exit(position, level - D("0.0001"), NOW, END)
    assert below is not None and below.reason is ExitReason.STOP_LOSS and below.threshold == level
    above = decide_exit(position, level + D("0.0001"), NOW, END)
    assert above is None or above.reason is not ExitReason.STOP_LOSS
    assert stop_price(position.entry_cost, position.entry_size, ExitConfig(stop_loss_pct=None)) is None


def test_an_open_positions_mark_is_its_bid_value_less_its_cost() -> None:
    from core.operator_view import position_mark

    mark = position_mark(D("2"), D("1.22"), D("0.70"))
    assert mark["current"] == D("0.70") and mark["unrealised_pnl_usd"] == D("0.18")
    assert position_mark(D("2"), D("1.22"), None)["unrealised_pnl_usd"] is None
