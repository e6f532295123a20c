"""Signed-order amounts as py-clob-client-v2 computes them, and what the venue accepts (POLYMARKET.md §6.3, §6.4).

The client floors sizes to 2 decimals; a price times size with more decimals than the tick's
`amount` precision is rounded up at `amount + 4` decimals, then floored to `amount`; the result is
scaled to integer micro-units. The client does this in floats; here it is exact Decimal, so the
two agree wherever the float arithmetic is not itself off by an ulp.

The venue then refuses marketable (FOK/FAK) orders whose maker amount has more than 2 decimals or
whose taker amount has more than 4, on every tick (§6.4 "Server precision"), and marketable
orders under $1 (§6.3). Pure: Decimal only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from math import gcd

from core.enums import OrderType, Side
from core.money import to_micros

__all__ = [
    "MIN_LIMIT_SHARES",
    "MIN_MARKETABLE_USD",
    "ROUNDING",
    "OrderAmounts",
    "Rounding",
    "floor_size",
    "limit_order_amounts",
    "market_order_amounts",
    "marketable_precision_ok",
    "marketable_size",
    "price_in_range",
    "price_on_tick",
]

MIN_MARKETABLE_USD = Decimal(1)
"""The venue refuses a marketable BUY under $1 (POLYMARKET.md §6.3)."""
MIN_LIMIT_SHARES = Decimal(5)
"""Gamma's `orderMinSize` on every Up/Down market seen; resting (GTC/GTD) orders only."""


@dataclass(frozen=True, slots=True)
class Rounding:
    """Decimals of price, size and amount for one tick size (py-clob-client-v2 `ROUNDING_CONFIG`)."""

    price: int
    size: int
    amount: int


ROUNDING: dict[Decimal, Rounding] = {
    Decimal("0.1"): Rounding(1, 2, 3),
    Decimal("0.01"): Rounding(2, 2, 4),
    Decimal("0.005"): Rounding(3, 2, 5),
    Decimal("0.0025"): Rounding(4, 2, 6),
    Decimal("0.001"): Rounding(3, 2, 5),
    Decimal("0.0001"): Rounding(4, 2, 6),
}


@dataclass(frozen=True, slots=True)
class OrderAmounts:
    """What the signed order carries, in micro-units: the maker gives `maker`, the taker gives `taker`."""

    side: Side
    maker: int
    taker: int

    @property
    def shares_micros(self) -> int:
        return self.taker if self.side is Side.BUY else self.maker

    @property
    def collateral_micros(self) -> int:
        return self.maker if self.side is Side.BUY else self.taker


def _places(decimals: int) -> Decimal:
    return Decimal(1).scaleb(-decimals)


def _decimals(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _round_amount(value: Decimal, amount: int) -> Decimal:
    if _decimals(value) <= amount:
        return value
    up = value.quantize(_places(amount + 4), rounding=ROUND_CEILING)
    if _decimals(up) <= amount:
        return up
    return up.quantize(_places(amount), rounding=ROUND_FLOOR)


def _rounding(tick: Decimal) -> Rounding:
    try:
        return ROUNDING[tick]
    except KeyError:
        raise ValueError(f"unknown tick size: {tick}") from None


def floor_size(size: Decimal, decimals: int = 2) -> Decimal:
    """A size floored to the venue's share decimals (2 on every tick)."""
    return size.quantize(_places(decimals), rounding=ROUND_FLOOR)


def limit_order_amounts(side: Side, size: Decimal, price: Decimal, tick: Decimal) -> OrderAmounts:
    """Amounts of a limit order (GTC/GTD/FOK/FAK from `create_order`) of `size` shares at `price`."""
    rc = _rounding(tick)
    px = price.quantize(_places(rc.price), rounding=ROUND_HALF_EVEN)
    shares = floor_size(size, rc.size)
    cash = _round_amount(shares * px, rc.amount)
    if side is Side.BUY:
        return OrderAmounts(side, to_micros(cash), to_micros(shares))
    return OrderAmounts(side, to_micros(shares), to_micros(cash))


def market_order_amounts(side: Side, amount: Decimal, price: Decimal, tick: Decimal) -> OrderAmounts:
    """Amounts of a market order: a BUY spends `amount` dollars, a SELL sells `amount` shares, at
    worst `price` (floored to the tick's price decimals, as V2 does)."""
    rc = _rounding(tick)
    px = price.quantize(_places(rc.price), rounding=ROUND_FLOOR)
    if px <= 0:
        raise ValueError(f"price rounds to zero: {price}")
    given = floor_size(amount, rc.size)
    if side is Side.BUY:
        shares = _round_amount(given / px, rc.amount)
        return OrderAmounts(side, to_micros(given), to_micros(shares))
    cash = _round_amount(given * px, rc.amount)
    return OrderAmounts(side, to_micros(given), to_micros(cash))


def marketable_precision_ok(amounts: OrderAmounts) -> bool:
    """Whether the venue accepts these amounts on a FOK/FAK: maker <= 2 decimals, taker <= 4."""
    return amounts.maker % 10_000 == 0 and amounts.taker % 100 == 0


def marketable_size(side: Side, size: Decimal, price: Decimal, tick: Decimal) -> Decimal:
    """The smallest share size >= `size` (on the 2-decimal grid) whose limit FOK/FAK the venue accepts
    at `price`, which must be on the tick's price decimals.

    A marketable BUY's cost (size x price) may have at most 2 decimals, a SELL's proceeds at most 4:
    1.67 shares at 0.60 cost 1.002 and are refused. With the price as k units of its last decimal,
    the valid sizes are the multiples of 10^d / gcd(k, 10^d) hundredths (d: the excess decimals).
    """
    rc = _rounding(tick)
    units = price.scaleb(rc.price)
    if units != units.to_integral_value() or units <= 0:
        raise ValueError(f"price {price} is not on {rc.price} decimals")
    excess = rc.price + 2 - (2 if side is Side.BUY else 4)
    if excess <= 0:
        return size.quantize(_places(2), rounding=ROUND_CEILING)
    modulus = 10**excess
    step = modulus // gcd(int(units), modulus)
    hundredths = int(size.scaleb(2).to_integral_value(rounding=ROUND_CEILING))
    return Decimal(-(-hundredths // step) * step).scaleb(-2)


def price_on_tick(price: Decimal, tick: Decimal) -> bool:
    """Whether `price` has no more decimals than the client signs for `tick` (else it is rounded
    when signed, and `marketable_size` cannot vouch for the amounts)."""
    rc = ROUNDING.get(tick)
    return rc is not None and price == price.quantize(_places(rc.price))


def price_in_range(price: Decimal, tick: Decimal, order_type: OrderType) -> bool:
    """`tick <= price <= 1 - tick`, and on the tick grid unless the order is marketable (FOK/FAK)."""
    if not tick <= price <= 1 - tick:
        return False
    return order_type in (OrderType.FOK, OrderType.FAK) or price % tick == 0
