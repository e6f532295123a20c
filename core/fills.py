"""The one simulated fill: a marketable order walked through a captured book (DRY_RUN, PAPER, BACKTEST).

What the venue would do with a FAK or FOK order (POLYMARKET.md §6.3-§6.5), from the levels of the
book on the other side as captured at decision time: refuse it where the venue refuses it (price
out of range, amounts with too many decimals, under $1, not enough balance), kill a FOK that cannot
fill whole and a FAK with nothing crossing, otherwise take levels best first at their own prices
(price improvement goes to the taker) until the size or the limit runs out. Each level taken is one
trade with its own fee from the market's schedule (`core.fees.trade_fee`).

The book shows a level's total, not its orders: the venue charges the fee per maker order, so its
rounding (5 decimals half up) can differ from ours by under 0.00001 per extra maker order.
Pure: Decimal only; the book and the balance are arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from core.enums import BookSide, OrderType, Side
from core.fees import FeeSchedule, trade_fee
from core.models import Level
from core.money import from_micros
from core.order_amounts import (
    OrderAmounts,
    limit_order_amounts,
    market_order_amounts,
    marketable_precision_ok,
    price_in_range,
)
from core.orderbook import OrderBook
from core.risk import MIN_MARKETABLE_USD

__all__ = [
    "FillOutcome",
    "FillRequest",
    "LevelTaken",
    "SimulatedFill",
    "levels_from",
    "opposite_side",
    "simulate_fill",
    "simulate_on_book",
]

_ZERO = Decimal(0)
_MICRO = Decimal("0.000001")


class FillOutcome(StrEnum):
    FILLED = "FILLED"  # the whole size
    PARTIAL = "PARTIAL"  # a FAK that took what crossed; the rest is dropped
    KILLED = "KILLED"  # a FOK that could not fill whole, or a FAK with nothing crossing: nothing filled
    REJECTED = "REJECTED"  # refused before matching, as the venue would (`reason` says why)


@dataclass(frozen=True, slots=True)
class FillRequest:
    """A marketable order as it would be signed: `size` shares at worst `limit_price`.

    `intended_price` is the price the decision counted on (slippage is measured against it);
    it defaults to the limit. Use `dollars` for a market BUY of a dollar amount.
    """

    side: Side
    order_type: OrderType
    limit_price: Decimal
    size: Decimal
    intended_price: Decimal | None = None
    amount_usd: Decimal | None = None

    @classmethod
    def dollars(
        cls,
        amount_usd: Decimal,
        limit_price: Decimal,
        order_type: OrderType,
        intended_price: Decimal | None = None,
    ) -> FillRequest:
        """A market BUY spending `amount_usd` at worst `limit_price`; its share size is what the
        client's market-order rounding gives (see `amounts`)."""
        return cls(Side.BUY, order_type, limit_price, _ZERO, intended_price, amount_usd)

    def amounts(self, tick: Decimal) -> OrderAmounts:
        if self.amount_usd is not None:
            return market_order_amounts(Side.BUY, self.amount_usd, self.limit_price, tick)
        return limit_order_amounts(self.side, self.size, self.limit_price, tick)


@dataclass(frozen=True, slots=True)
class LevelTaken:
    """One trade of the fill: `size` shares at the resting level's `price`, and its fee."""

    price: Decimal
    size: Decimal
    fee: Decimal


@dataclass(frozen=True, slots=True)
class SimulatedFill:
    """What the order did. `notional` is the exact sum of price x size over the levels taken."""

    side: Side
    outcome: FillOutcome
    reason: str
    requested_size: Decimal
    intended_price: Decimal
    levels: tuple[LevelTaken, ...] = ()

    @property
    def filled_size(self) -> Decimal:
        return sum((lv.size for lv in self.levels), _ZERO)

    @property
    def notional(self) -> Decimal:
        return sum((lv.price * lv.size for lv in self.levels), _ZERO)

    @property
    def fee(self) -> Decimal:
        return sum((lv.fee for lv in self.levels), _ZERO)

    @property
    def avg_price(self) -> Decimal | None:
        """Volume-weighted price to 6 decimals (half even); None when nothing filled."""
        filled = self.filled_size
        if filled == _ZERO:
            return None
        return (self.notional / filled).quantize(_MICRO, rounding=ROUND_HALF_EVEN)

    @property
    def slippage_usd(self) -> Decimal:
        """Dollars lost against the intended price (negative when the book did better): exact."""
        at_intended = self.intended_price * self.filled_size
        return self.notional - at_intended if self.side is Side.BUY else at_intended - self.notional

    @property
    def cash_delta(self) -> Decimal:
        """Collateral change of the account: a BUY pays notional and fee, a SELL receives notional less fee."""
        if self.side is Side.BUY:
            return -(self.notional + self.fee)
        return self.notional - self.fee


def opposite_side(side: Side) -> BookSide:
    """The book side an order of `side` takes from: a BUY takes asks, a SELL takes bids."""
    return BookSide.ASK if side is Side.BUY else BookSide.BID


def levels_from(levels: Iterable[Level]) -> dict[Decimal, Decimal]:
    """`{price: size}` of captured levels (a `DecisionContext`'s `up_asks`, a snapshot's `bids`).

    A context keeps only the top levels: a walk past them finds no more depth than was captured.
    """
    out: dict[Decimal, Decimal] = {}
    for lv in levels:
        out[lv.price] = out.get(lv.price, _ZERO) + lv.size
    return out


def _crossing(levels: Mapping[Decimal, Decimal], side: Side, limit: Decimal) -> list[tuple[Decimal, Decimal]]:
    if side is Side.BUY:
        return sorted((p, s) for p, s in levels.items() if p <= limit and s > _ZERO)
    return sorted(((p, s) for p, s in levels.items() if p >= limit and s > _ZERO), reverse=True)


def simulate_fill(
    levels: Mapping[Decimal, Decimal],
    request: FillRequest,
    schedule: FeeSchedule,
    tick: Decimal,
    available: Decimal | None = None,
) -> SimulatedFill:
    """Walk `levels` (`{price: size}` of the side the order takes, see `opposite_side`) for `request`.

    The limit that counts is the one the venue reads off the signed amounts (collateral / shares),
    as the client rounded them. `available` is what the account can spend: collateral for a BUY
    (the order's collateral plus the fee at its price, the venue's own check), shares for a SELL;
    None skips the check (an account the caller knows is large enough).
    """
    if request.order_type not in (OrderType.FAK, OrderType.FOK):
        raise ValueError(f"only marketable orders fill against a book: {request.order_type}")
    intended = request.limit_price if request.intended_price is None else request.intended_price

    def refused(reason: str, size: Decimal = _ZERO) -> SimulatedFill:
        return SimulatedFill(request.side, FillOutcome.REJECTED, reason, size, intended)

    if not price_in_range(request.limit_price, tick, request.order_type):
        return refused("bad_price")
    try:
        amounts = request.amounts(tick)
    except ValueError:
        return refused("bad_price")
    size = from_micros(amounts.shares_micros)
    if size <= _ZERO:
        return refused("bad_size")
    cash = from_micros(amounts.collateral_micros)
    # The venue reads the order's price off its signed amounts, not off what the client was given.
    limit = cash / size
    if not marketable_precision_ok(amounts):
        return refused("amount_precision", size)
    if cash < MIN_MARKETABLE_USD:
        return refused("below_minimum", size)
    if available is not None:
        need = cash + trade_fee(schedule, size, limit) if request.side is Side.BUY else size
        if need > available:
            return refused("not_enough_balance", size)

    crossing = _crossing(levels, request.side, limit)
    depth = sum((s for _, s in crossing), _ZERO)
    if request.order_type is OrderType.FOK and depth < size:
        return SimulatedFill(request.side, FillOutcome.KILLED, "fok_not_filled", size, intended)
    if depth == _ZERO:
        return SimulatedFill(request.side, FillOutcome.KILLED, "no_match", size, intended)

    taken: list[LevelTaken] = []
    remaining = size
    for price, level_size in crossing:
        take = min(remaining, level_size)
        taken.append(LevelTaken(price, take, trade_fee(schedule, take, price)))
        remaining -= take
        if remaining == _ZERO:
            break
    outcome = FillOutcome.FILLED if remaining == _ZERO else FillOutcome.PARTIAL
    return SimulatedFill(request.side, outcome, "", size, intended, tuple(taken))


def simulate_on_book(
    book: OrderBook,
    request: FillRequest,
    schedule: FeeSchedule,
    available: Decimal | None = None,
    default_tick: Decimal = Decimal("0.01"),
) -> SimulatedFill:
    """`simulate_fill` on a local `OrderBook`; its own tick size when it knows one."""
    tick = book.tick_size if book.tick_size is not None else default_tick
    return simulate_fill(book.levels(opposite_side(request.side)), request, schedule, tick, available)
