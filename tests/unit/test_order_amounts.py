"""core.order_amounts: the client's rounding in exact Decimal, checked on POLYMARKET.md §6.4's vectors."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.enums import OrderType, Side
from core.money import from_micros
from core.order_amounts import (
    ROUNDING,
    OrderAmounts,
    limit_order_amounts,
    market_order_amounts,
    marketable_precision_ok,
    marketable_size,
    price_in_range,
)

D = Decimal


@pytest.mark.parametrize(
    ("side", "size", "price", "tick", "maker", "taker"),
    [
        (Side.BUY, "10", "0.57", "0.01", 5_700_000, 10_000_000),
        (Side.SELL, "10", "0.57", "0.01", 10_000_000, 5_700_000),
        (Side.BUY, "7.777", "0.123", "0.001", 955_710, 7_770_000),
        (Side.SELL, "12.345", "0.333", "0.001", 12_340_000, 4_109_220),
    ],
)
def test_limit_vectors(side: Side, size: str, price: str, tick: str, maker: int, taker: int) -> None:
    assert limit_order_amounts(side, D(size), D(price), D(tick)) == OrderAmounts(side, maker, taker)


@pytest.mark.parametrize(
    ("side", "amount", "price", "maker", "taker"),
    [
        (Side.BUY, "25", "0.57", 25_000_000, 43_859_600),
        (Side.SELL, "25", "0.57", 25_000_000, 14_250_000),
    ],
)
def test_market_vectors(side: Side, amount: str, price: str, maker: int, taker: int) -> None:
    assert market_order_amounts(side, D(amount), D(price), D("0.01")) == OrderAmounts(side, maker, taker)


def test_market_buy_on_a_thousandth_tick_can_break_the_server_precision() -> None:
    # $9.98 at 0.985 -> 10.13197 shares: a 5th decimal the venue refuses on a FOK/FAK (§6.4).
    amounts = market_order_amounts(Side.BUY, D("9.98"), D("0.985"), D("0.001"))
    assert amounts.taker == 10_131_970
    assert not marketable_precision_ok(amounts)


def test_limit_buy_with_a_cent_fraction_of_cost_is_not_marketable() -> None:
    # 1.67 shares at 0.6 cost 1.002: a maker amount with 3 decimals.
    assert not marketable_precision_ok(limit_order_amounts(Side.BUY, D("1.67"), D("0.6"), D("0.01")))
    assert marketable_precision_ok(limit_order_amounts(Side.BUY, D("5"), D("0.6"), D("0.01")))


ticks = st.sampled_from(sorted(ROUNDING))


@given(
    st.sampled_from([Side.BUY, Side.SELL]),
    st.decimals(min_value=0, max_value=10_000, places=6),
    ticks,
    st.data(),
)
def test_limit_amounts_floor_the_size_and_stay_within_the_tick_decimals(
    side: Side, size: Decimal, tick: Decimal, data: st.DataObject
) -> None:
    price = data.draw(st.integers(1, int(1 / tick) - 1)) * tick
    amounts = limit_order_amounts(side, size, price, tick)
    shares = from_micros(amounts.shares_micros)
    assert shares <= size < shares + D("0.01")
    cash = from_micros(amounts.collateral_micros)
    assert cash <= shares * price  # never more than the product: rounding only floors it here
    assert shares * price - cash < D(1).scaleb(-ROUNDING[tick].amount)


def test_prices_off_range_or_off_grid() -> None:
    tick = D("0.01")
    assert price_in_range(D("0.01"), tick, OrderType.GTC)
    assert price_in_range(D("0.99"), tick, OrderType.GTC)
    assert not price_in_range(D("0.995"), tick, OrderType.FAK)
    assert not price_in_range(D("0.005"), tick, OrderType.FAK)
    assert not price_in_range(D("0.555"), tick, OrderType.GTC)
    assert price_in_range(D("0.555"), tick, OrderType.FAK)  # marketable: the grid is not checked


def test_unknown_tick_is_refused() -> None:
    with pytest.raises(ValueError):
        limit_order_amounts(Side.BUY, D("5"), D("0.5"), D("0.02"))


@given(
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 5000).map(lambda c: D(c) / 100),
    ticks,
    st.data(),
)
def test_marketable_size_is_the_smallest_accepted_size_at_or_above(
    side: Side, size: Decimal, tick: Decimal, data: st.DataObject
) -> None:
    price = data.draw(st.integers(1, int(1 / tick) - 1)) * tick
    found = marketable_size(side, size, price, tick)
    assert found >= size
    assert marketable_precision_ok(limit_order_amounts(side, found, price, tick))
    below = size
    while below < found:  # brute force over the 2-decimal grid: nothing smaller is accepted
        assert not marketable_precision_ok(limit_order_amounts(side, below, price, tick))
        below += D("0.01")


def test_marketable_size_vectors() -> None:
    assert marketable_size(Side.BUY, D("1.67"), D("0.60"), D("0.01")) == D("1.70")  # $1.02
    assert marketable_size(Side.BUY, D("1.67"), D("0.57"), D("0.01")) == D("2")  # 57 is prime to 100
    assert marketable_size(Side.SELL, D("1.67"), D("0.57"), D("0.01")) == D("1.67")
