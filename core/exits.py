"""The exit decision: one function, one fixed priority (DESIGN.md "Position lifecycle", STYLE habit 5).

`decide_exit` looks at a MONITORING position, the price it could sell at now (the best bid) and the
event time, and names at most one reason to exit, first match in `EXIT_PRIORITY`:

1. STOP_LOSS: the bid is at or below the average entry price less `stop_loss_pct` (default 10 %);
2. TAKE_PROFIT: the bid is at or above the entry price plus `take_profit_pct` (default 30 %);
3. TRAILING_TAKE_PROFIT: once the peak bid since entry has been above the entry price, the bid is
   at or below the peak less `trailing_pct` (off by default; `ExitConfig.trailing()` turns it on at
   20 % in place of the fixed take-profit);
4. EXPIRY: `expiry_before` or less is left in the window (default: the window's end).

Safety first: when a stop and a profit rule both hold, the stop is named. Every rule fires exactly
at its threshold; comparisons are exact products, never a rounded percentage. Without a bid (an
empty book) no price rule can fire; expiry still does.

`exit_plan` then turns a trigger into a FAK SELL of what is held, or into a hold to resolution when
the book is too thin for the venue to take the order (it is judged by the same simulated fill that
DRY_RUN uses). Pure: time and the book are arguments; Decimal only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from core.enums import ExitReason, OrderType, PositionState, Side
from core.fees import FeeSchedule
from core.fills import FillOutcome, FillRequest, SimulatedFill, simulate_fill
from core.positions import Position

__all__ = [
    "DEFAULT_DAILY_DRAWDOWN_USD",
    "EXIT_PRIORITY",
    "ExitConfig",
    "ExitDecision",
    "ExitOrder",
    "HoldToResolution",
    "decide_exit",
    "exit_plan",
    "stop_price",
]

_ZERO = Decimal(0)
_ONE = Decimal(1)

EXIT_PRIORITY: tuple[ExitReason, ...] = (
    ExitReason.STOP_LOSS,
    ExitReason.TAKE_PROFIT,
    ExitReason.TRAILING_TAKE_PROFIT,
    ExitReason.EXPIRY,
)
DEFAULT_DAILY_DRAWDOWN_USD = Decimal(20)
"""Seed 0.2: the day's loss at which entries stop (checked by `core.execution_guards`)."""


@dataclass(frozen=True, slots=True)
class ExitConfig:
    """Exit thresholds as fractions of the entry price; None turns a rule off. Defaults from seed 0.2."""

    stop_loss_pct: Decimal | None = Decimal("0.10")
    take_profit_pct: Decimal | None = Decimal("0.30")
    trailing_pct: Decimal | None = None
    expiry_before: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        for name in ("stop_loss_pct", "take_profit_pct", "trailing_pct"):
            value = getattr(self, name)
            if value is not None and not _ZERO < value < _ONE:
                raise ValueError(f"{name} must be in (0, 1) or None: {value}")
        if self.expiry_before < timedelta(0):
            raise ValueError(f"expiry_before must not be negative: {self.expiry_before}")

    @classmethod
    def trailing(cls, trailing_pct: Decimal = Decimal("0.20")) -> ExitConfig:
        """The seed's alternative: stop-loss 10 % and a trailing take-profit in place of the fixed one."""
        return cls(take_profit_pct=None, trailing_pct=trailing_pct)


@dataclass(frozen=True, slots=True)
class ExitDecision:
    """Why to exit now, with the bid that decided it and the threshold it crossed (for the audit)."""

    reason: ExitReason
    mark: Decimal | None
    threshold: Decimal | None


def stop_price(cost_usd: Decimal, shares: Decimal, config: ExitConfig) -> Decimal | None:
    """The bid at or below which the stop-loss fires for a position of `shares` that cost `cost_usd`
    (None: no stop, or nothing held). What the exit decision compares and the dashboard shows."""
    if config.stop_loss_pct is None or shares == _ZERO:
        return None
    return cost_usd * (_ONE - config.stop_loss_pct) / shares


def decide_exit(
    position: Position,
    best_bid: Decimal | None,
    now: datetime,
    window_end: datetime,
    config: ExitConfig = ExitConfig(),
) -> ExitDecision | None:
    """The one reason `position` must exit now, by `EXIT_PRIORITY`, or None.

    Only a MONITORING position is decided on: any other is entering, or already exiting and must
    not be touched. `now` is the event time of the price.
    """
    if position.state is not PositionState.MONITORING or position.entry_size == _ZERO:
        return None
    if best_bid is not None:
        cost, shares = position.entry_cost, position.entry_size
        value = best_bid * shares  # compared with cost x factor: exact, no division
        if config.stop_loss_pct is not None and value <= cost * (_ONE - config.stop_loss_pct):
            return ExitDecision(ExitReason.STOP_LOSS, best_bid, stop_price(cost, shares, config))
        if config.take_profit_pct is not None and value >= cost * (_ONE + config.take_profit_pct):
            return ExitDecision(
                ExitReason.TAKE_PROFIT, best_bid, cost * (_ONE + config.take_profit_pct) / shares
            )
        if config.trailing_pct is not None:
            peak = best_bid if position.peak_price is None else max(position.peak_price, best_bid)
            armed = peak * shares > cost
            floor = peak * (_ONE - config.trailing_pct)
            if armed and best_bid <= floor:
                return ExitDecision(ExitReason.TRAILING_TAKE_PROFIT, best_bid, floor)
    if now >= window_end - config.expiry_before:
        return ExitDecision(ExitReason.EXPIRY, best_bid, None)
    return None


@dataclass(frozen=True, slots=True)
class ExitOrder:
    """A FAK SELL of `size` shares at worst `limit_price`; `expected` is the fill the captured book gives.

    `size` is what the venue's rounding lets us sign (2 share decimals): dust below it stays held."""

    size: Decimal
    limit_price: Decimal
    expected: SimulatedFill


@dataclass(frozen=True, slots=True)
class HoldToResolution:
    """No exit order can go out: the position is held to resolution, for `reason`."""

    reason: str


def exit_plan(
    position: Position,
    bids: Mapping[Decimal, Decimal],
    schedule: FeeSchedule,
    tick: Decimal,
    now: datetime,
    window_end: datetime,
    floor_price: Decimal | None = None,
) -> ExitOrder | HoldToResolution:
    """How a triggered position exits: a FAK SELL of all it holds at worst `floor_price`, or a hold
    when trading has stopped or the bids cannot take the order (none, under the $1 minimum,
    amounts the venue refuses).

    The default floor is the bid that covers the whole size (the lowest bid when none does), as
    py-clob-client's market SELL picks it: a floor of one tick would make the venue judge the
    order's dollar value at that tick and refuse it under $1.
    """
    if position.size <= _ZERO:
        return HoldToResolution("nothing_held")
    if now >= window_end:
        return HoldToResolution("window_ended")
    limit = _covering_bid(bids, position.size) if floor_price is None else floor_price
    if limit is None:
        return HoldToResolution("book_too_thin:no_bids")
    request = FillRequest(Side.SELL, OrderType.FAK, limit, position.size, max(bids, default=None))
    expected = simulate_fill(bids, request, schedule, tick)
    if expected.outcome in (FillOutcome.REJECTED, FillOutcome.KILLED):
        return HoldToResolution(f"book_too_thin:{expected.reason}")
    return ExitOrder(expected.requested_size, limit, expected)


def _covering_bid(bids: Mapping[Decimal, Decimal], size: Decimal) -> Decimal | None:
    """The highest bid down to which the bids hold `size` shares; the lowest bid if they never do."""
    total = _ZERO
    price: Decimal | None = None
    for price in sorted((p for p, s in bids.items() if s > _ZERO), reverse=True):
        total += bids[price]
        if total >= size:
            return price
    return price
