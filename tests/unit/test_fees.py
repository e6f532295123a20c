"""core.fees: the schedule is read from the market, and the fee is the venue's curve to 5 decimals."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.fees import (
    FEE_QUANTUM,
    NO_FEES,
    FeeSchedule,
    FeeScheduleError,
    fee_schedule_from_clob,
    fee_schedule_from_gamma,
    trade_fee,
)

D = Decimal
CRYPTO = FeeSchedule(rate=D("0.07"), exponent=1, taker_only=True, rebate_rate=D("0.2"))

prices = st.decimals(min_value=0, max_value=1, places=4)
shares = st.decimals(min_value=0, max_value=100_000, places=2)


def test_gamma_schedule_is_read_from_the_market_fields() -> None:
    market = {
        "feesEnabled": True,
        "feeSchedule": {"rate": 0.07, "exponent": 1, "takerOnly": True, "rebateRate": 0.2},
    }
    assert fee_schedule_from_gamma(market) == CRYPTO


def test_gamma_market_without_fees_charges_nothing() -> None:
    market = {"feesEnabled": False, "feeSchedule": {"rate": 0.07, "exponent": 1}}
    assert fee_schedule_from_gamma(market) is NO_FEES
    assert trade_fee(NO_FEES, D("100"), D("0.5")) == 0


def test_clob_fee_data_is_read() -> None:
    assert fee_schedule_from_clob({"r": 0.25, "e": 2, "to": True}) == FeeSchedule(D("0.25"), 2, True)


@pytest.mark.parametrize(
    "market",
    [
        {"feesEnabled": True},
        {"feeSchedule": {"exponent": 1}},
        {"feeSchedule": {"rate": 0.07, "exponent": 3}},
        {"feeSchedule": {"rate": 0.07, "exponent": 1.5}},
        {"feeSchedule": {"rate": 1.2}},
        {"feeSchedule": {"rate": "abc"}},
    ],
)
def test_unusable_schedules_are_refused(market: dict[str, object]) -> None:
    with pytest.raises(FeeScheduleError):
        fee_schedule_from_gamma(market)


@pytest.mark.parametrize(
    ("size", "price", "fee"),
    [
        ("1", "0.5", "0.01750"),  # 1.75 cents a share at 0.5 (POLYMARKET.md §6.7)
        ("10", "0.57", "0.17157"),  # 10 x 0.07 x 0.57 x 0.43 = 0.171570
        ("3", "0.333", "0.04664"),  # 0.04664331 rounds down
        ("7.77", "0.123", "0.05867"),  # 0.0586710... rounds up
        ("0.03", "0.5", "0.00053"),  # 0.000525: a tie goes up (half even would give 0.00052)
        ("0", "0.5", "0"),
    ],
)
def test_taker_fee_vectors(size: str, price: str, fee: str) -> None:
    assert trade_fee(CRYPTO, D(size), D(price)) == D(fee)


def test_maker_pays_nothing_under_a_taker_only_schedule() -> None:
    assert trade_fee(CRYPTO, D("10"), D("0.5"), is_maker=True) == 0
    both = FeeSchedule(D("0.07"), 1, taker_only=False)
    assert trade_fee(both, D("10"), D("0.5"), is_maker=True) == D("0.175")


@given(shares, prices)
def test_fee_is_the_curve_rounded_half_up_to_5_decimals(size: Decimal, price: Decimal) -> None:
    fee = trade_fee(CRYPTO, size, price)
    exact = size * D("0.07") * price * (1 - price)
    assert fee == exact.quantize(FEE_QUANTUM, rounding=ROUND_HALF_UP)
    assert abs(fee - exact) <= FEE_QUANTUM / 2
    assert fee == fee.quantize(FEE_QUANTUM)  # no digit past the 5th decimal


@given(shares, prices)
def test_fee_is_symmetric_in_price_and_largest_at_half(size: Decimal, price: Decimal) -> None:
    assert trade_fee(CRYPTO, size, price) == trade_fee(CRYPTO, size, 1 - price)
    assert trade_fee(CRYPTO, size, price) <= trade_fee(CRYPTO, size, D("0.5"))


@given(shares, prices)
def test_exponent_two_is_never_above_exponent_one(size: Decimal, price: Decimal) -> None:
    squared = FeeSchedule(D("0.07"), 2)
    assert trade_fee(squared, size, price) <= trade_fee(CRYPTO, size, price)


def test_prices_outside_zero_one_are_refused() -> None:
    with pytest.raises(ValueError):
        trade_fee(CRYPTO, D("1"), D("1.01"))
