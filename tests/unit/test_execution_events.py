"""The executor's pure decisions: what a failed POST proves, what the venue's record says, and the
events a simulated fill stands for (the same a venue fill gives, so every mode ends in the same rows)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.enums import OrderStatus, OrderType, Side
from core.execution import (
    post_failure_event,
    simulated_events,
    simulated_trade_id,
    simulated_venue_order_id,
    venue_view,
)
from core.fees import FeeSchedule
from core.fills import FillRequest, simulate_fill
from core.ids import ClientOrderId
from core.orders import NoAnswer, OrderState, Posted, Refused, VenueView, apply

D = Decimal
COID = ClientOrderId("pw-" + "ab" * 20)
CRYPTO = FeeSchedule(D("0.07"))


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (None, "Request exception!", NoAnswer("Request exception!")),
        (500, "could not insert order", NoAnswer("500: could not insert order")),
        (429, "Too Many Requests", Refused("429: Too Many Requests", retryable=True)),
        (425, "too early", Refused("425: too early", retryable=True)),
        (
            503,
            "Trading is currently cancel-only.",
            Refused("503: Trading is currently cancel-only.", retryable=True),
        ),
        (502, "Trading is currently disabled", Refused("502: Trading is currently disabled", retryable=True)),
        (400, "not enough balance / allowance", Refused("400: not enough balance / allowance")),
    ],
)
def test_a_failed_post_proves_only_what_its_answer_says(
    status: int | None, error: str, expected: object
) -> None:
    assert post_failure_event(status, error) == expected


def test_the_venues_record_reads_as_a_view() -> None:
    assert venue_view({"status": "LIVE", "size_matched": "2"}) == VenueView(D(2), resting=True)
    assert venue_view({"status": "ORDER_STATUS_MATCHED", "size_matched": "5"}) == VenueView(
        D(5), resting=False
    )
    assert venue_view({"status": "CANCELED", "size_matched": "0"}).resting is False


def test_simulated_ids_are_stable_and_venue_shaped() -> None:
    assert simulated_venue_order_id(COID) == simulated_venue_order_id(COID)
    assert len(simulated_venue_order_id(COID)) == 66
    assert simulated_trade_id(COID, 0) != simulated_trade_id(COID, 1)


levels = st.dictionaries(
    st.integers(1, 99).map(lambda c: D(c) / 100), st.integers(1, 5000).map(lambda n: D(n) / 100), max_size=5
)


@given(levels, st.integers(1, 99), st.integers(200, 3000), st.sampled_from([OrderType.FAK, OrderType.FOK]))
def test_a_simulated_fill_moves_the_order_as_a_venue_fill_would(
    book: dict[Decimal, Decimal], cents: int, hundredths: int, order_type: OrderType
) -> None:
    request = FillRequest(Side.BUY, order_type, D(cents) / 100, D(hundredths) / 100)
    fill = simulate_fill(book, request, CRYPTO, D("0.01"))
    events, trades = simulated_events(COID, fill)
    order = apply(OrderState(COID, order_type, fill.requested_size or request.size), Posted("0x" + "1" * 64))
    for event in events:
        order = apply(order, event)
    assert order.settled
    assert order.size_matched == sum((t.size for t in trades), D(0)) == fill.filled_size
    assert sum((t.fee for t in trades), D(0)) == fill.fee
    if fill.filled_size == 0:
        assert order.status in (OrderStatus.REJECTED, OrderStatus.CANCELED)


def test_an_intent_older_than_the_limit_is_stale_and_a_fresh_one_is_not() -> None:
    from datetime import UTC, datetime, timedelta

    from core.execution import stale_intent

    now = datetime(2026, 12, 2, tzinfo=UTC)
    assert stale_intent(now - timedelta(seconds=30), now) is None
    assert stale_intent(now - timedelta(seconds=31), now) == "intent is 31.0 s old (max 30 s)"
    assert stale_intent(now + timedelta(seconds=5), now) is None
