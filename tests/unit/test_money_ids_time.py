from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Context, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from core.ids import ConditionId, TokenId, VenueOrderId
from core.money import Price, from_e18, from_micros, parse_decimal, to_micros
from core.timestamps import UtcDatetime, from_ms, to_ms

micro_amounts = st.decimals(min_value=0, max_value=10**9, places=6, allow_nan=False, allow_infinity=False)


@given(micro_amounts)
def test_micro_units_round_trip_exactly(amount: Decimal) -> None:
    assert from_micros(to_micros(amount)) == amount


@given(st.integers(min_value=0, max_value=10**30))
def test_e18_values_are_exact(raw: int) -> None:
    assert from_e18(str(raw)).scaleb(18, Context(prec=200)) == raw


def test_amount_finer_than_a_micro_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="more than 6 decimals"):
        to_micros(Decimal("0.0000001"))


@pytest.mark.parametrize("bad", [0.57, float("nan"), "NaN", "Infinity", "abc", True, None])
def test_parse_decimal_refuses_floats_and_non_numbers(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_decimal(bad)


@pytest.mark.parametrize("bad", ["-0.01", "1.01"])
def test_price_must_lie_in_zero_one(bad: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Price).validate_python(bad)


def test_id_types_validate_their_form() -> None:
    assert TokenId("8213") == "8213"
    with pytest.raises(ValueError):
        ConditionId("0x123")
    with pytest.raises(ValueError):
        TokenId("0xabc")
    assert type(VenueOrderId("0x" + "a" * 64)) is VenueOrderId


@given(st.integers(min_value=0, max_value=4_000_000_000_000))
def test_ms_timestamps_round_trip(ms: int) -> None:
    assert to_ms(from_ms(ms)) == ms
    assert from_ms(str(ms)).tzinfo is UTC


def test_naive_datetimes_are_refused_and_aware_ones_normalised() -> None:
    adapter = TypeAdapter(UtcDatetime)
    with pytest.raises(ValidationError, match="timezone-aware"):
        adapter.validate_python(datetime(2026, 6, 8, 8, 15))  # noqa: DTZ001 - the point of the test
    cet = datetime(2026, 6, 8, 10, 15, tzinfo=timezone(timedelta(hours=2)))
    assert adapter.validate_python(cet) == datetime(2026, 6, 8, 8, 15, tzinfo=UTC)
    assert adapter.validate_python(cet).tzinfo is UTC
