"""core.orders: the confirmation states as a table; UNKNOWN is left only on the venue's word."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.enums import OrderStatus, OrderType
from core.orders import (
    FINAL,
    NEXT,
    ConfirmTimeout,
    InvalidTransition,
    NoAnswer,
    NotAtVenue,
    OrderEvent,
    OrderState,
    OrderTrigger,
    Posted,
    Refused,
    TradeFailed,
    VenueView,
    apply,
    trigger_of,
)

D = Decimal
St = OrderStatus
VID = "0x" + "ab" * 32


def _posted(size: str = "10") -> OrderState:
    return apply(OrderState("pw-0123456789", OrderType.FAK, D(size)), Posted(VID))


def test_final_statuses_have_no_way_out() -> None:
    for (status, trigger), _ in NEXT.items():
        if status in (St.REJECTED, St.CANCELED, St.EXPIRED):
            pytest.fail(f"{status} has a way out by {trigger}")
        if status is St.FILLED:
            assert trigger in (OrderTrigger.REVERSED_PART, OrderTrigger.REVERSED_ALL)


def test_only_the_venue_settles_unknown() -> None:
    for (status, trigger), target in NEXT.items():
        if status is St.UNKNOWN and target is not St.UNKNOWN:
            assert trigger not in (OrderTrigger.CONFIRM_TIMEOUT, OrderTrigger.REFUSED, OrderTrigger.NO_ANSWER)


def test_a_lost_post_response_is_unknown_then_what_the_venue_says() -> None:
    o = apply(_posted(), NoAnswer("read timeout"))
    assert (o.status, o.venue_order_id, o.settled) == (St.UNKNOWN, VID, False)
    with pytest.raises(InvalidTransition):
        apply(o, Refused("late guess"))
    o = apply(o, VenueView(D("4"), resting=False, trade_id="t1"))
    assert (o.status, o.size_matched, o.settled) == (St.PARTIALLY_FILLED, D("4"), True)


def test_an_order_the_venue_never_saw_is_rejected_by_reconciliation() -> None:
    o = apply(apply(_posted(), NoAnswer("connection reset")), NotAtVenue())
    assert o.status is St.REJECTED and o.settled


def test_a_retryable_refusal_goes_back_to_new_and_a_definite_one_rejects() -> None:
    assert apply(_posted(), Refused("429 Too Many Requests", retryable=True)).status is St.NEW
    assert apply(_posted(), Refused("not enough balance / allowance")).status is St.REJECTED


def test_fills_and_a_failed_trade() -> None:
    o = apply(_posted(), VenueView(D("10"), resting=False, trade_id="t1"))
    assert o.status is St.FILLED
    o = apply(o, TradeFailed("t1", D("3")))
    assert (o.status, o.size_matched, o.settled) == (St.PARTIALLY_FILLED, D("7"), True)
    assert apply(o, TradeFailed("t1", D("3"))) is o  # a repeated frame is applied once
    o = apply(o, TradeFailed("t2", D("7")))
    assert (o.status, o.size_matched) == (St.CANCELED, D("0"))


def test_a_fak_with_nothing_matched_ends_cancelled_and_a_resting_order_times_out_to_unknown() -> None:
    assert apply(_posted(), VenueView(D("0"), resting=False)).status is St.CANCELED
    live = apply(_posted(), VenueView(D("0"), resting=True))
    assert live.status is St.LIVE
    assert apply(live, ConfirmTimeout()).status is St.UNKNOWN
    with pytest.raises(InvalidTransition):
        apply(apply(_posted(), VenueView(D("10"), resting=False)), ConfirmTimeout())


def test_matched_never_goes_backwards_or_past_the_size() -> None:
    o = apply(_posted(), VenueView(D("5"), resting=True))
    with pytest.raises(InvalidTransition):
        apply(o, VenueView(D("4"), resting=True))
    with pytest.raises(InvalidTransition):
        apply(o, VenueView(D("11"), resting=False))


sizes = st.integers(0, 1000).map(lambda c: D(c) / 100)
matched = st.one_of(st.just(D(0)), st.just(D(10)), sizes)  # nothing and everything are common answers
events: st.SearchStrategy[OrderEvent] = st.one_of(
    st.builds(Posted, st.just(VID)),
    st.builds(NoAnswer, st.just("timeout")),
    st.builds(Refused, st.just("no"), st.booleans()),
    st.builds(
        VenueView,
        matched,
        st.booleans(),
        st.sampled_from([False, False, True]),
        st.sampled_from([None, "t1", "t2"]),
    ),
    st.just(NotAtVenue()),
    st.just(ConfirmTimeout()),
    st.builds(TradeFailed, st.sampled_from(["t1", "t2", "t3"]), sizes),
)


@settings(max_examples=400)
@given(st.booleans(), st.lists(events, max_size=30))
def test_random_event_sequences_keep_the_invariants(posted: bool, seq: list[OrderEvent]) -> None:
    o = _posted() if posted else OrderState("pw-0123456789", OrderType.FAK, D("10"))
    for event in seq:
        before = o
        try:
            o = apply(o, event)
        except InvalidTransition:
            continue
        if o is before:
            continue
        assert o.status is NEXT[(before.status, trigger_of(before, event))]
        assert D(0) <= o.size_matched <= o.size
        if not isinstance(event, TradeFailed):
            assert o.size_matched >= before.size_matched
        if before.status is St.UNKNOWN and o.status is not St.UNKNOWN:
            assert isinstance(event, VenueView | NotAtVenue)  # only the venue's word settles it
        if before.status in FINAL - {St.FILLED}:
            pytest.fail(f"left final status {before.status}")
        if o.status is St.FILLED:
            assert o.size_matched == o.size
        if o.status is St.PARTIALLY_FILLED:
            assert D(0) < o.size_matched < o.size
