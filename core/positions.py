"""The position lifecycle as a transition table (DESIGN.md "Position lifecycle").

ENTRY -> MONITORING -> {STOP_TRIGGERED | TP_TRIGGERED | EXPIRY} -> EXIT_PENDING -> CLOSED.

An operator's FLATTEN (or EMERGENCY) is a forced stop: MONITORING -> STOP_TRIGGERED with exit reason
FLATTEN, then the same exit as any trigger.

Once EXIT_PENDING nothing may move the position anywhere but CLOSED: its exit trades, a hold to
resolution and the resolution itself only change it in place. A position the book is too thin to
exit is held to resolution, and that is recorded (`held_to_resolution`, `hold_reason`), never
hidden. A winning position closes only once its payout is redeemed into the balance (`Redeemed`);
a losing one closes at resolution.

`apply(position, event)` is the one way a position changes: it looks the (state, trigger) pair up in
`NEXT` and raises `InvalidTransition` for any pair not there; a trade whose id was already applied
returns the position unchanged (the user channel repeats trades for every status). Pure: no I/O,
no clock; Decimal only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from core.enums import ExitReason, PositionState

__all__ = [
    "NEXT",
    "EntryDone",
    "EntryTrade",
    "ExitOrdered",
    "ExitTrade",
    "HeldToResolution",
    "InvalidTransition",
    "Mark",
    "Position",
    "PositionEvent",
    "PositionTrigger",
    "Redeemed",
    "Resolved",
    "Triggered",
    "apply",
    "trigger_of",
]

_ZERO = Decimal(0)
S = PositionState


class PositionTrigger(StrEnum):
    ENTRY_TRADE = "ENTRY_TRADE"
    ENTRY_FILLED = "ENTRY_FILLED"
    ENTRY_VOID = "ENTRY_VOID"
    MARK = "MARK"
    STOP_HIT = "STOP_HIT"
    TP_HIT = "TP_HIT"
    EXPIRED = "EXPIRED"
    FLATTENED = "FLATTENED"
    EXIT_ORDERED = "EXIT_ORDERED"
    HOLD_TO_RESOLUTION = "HOLD_TO_RESOLUTION"
    EXIT_PARTIAL = "EXIT_PARTIAL"
    EXIT_FILLED = "EXIT_FILLED"
    RESOLVED_PAYOUT_DUE = "RESOLVED_PAYOUT_DUE"
    RESOLVED_NOTHING_DUE = "RESOLVED_NOTHING_DUE"
    REDEEMED = "REDEEMED"


T = PositionTrigger
_TRIGGERED = (S.STOP_TRIGGERED, S.TP_TRIGGERED, S.EXPIRY)

NEXT: dict[tuple[PositionState, PositionTrigger], PositionState] = {
    (S.ENTRY, T.ENTRY_TRADE): S.ENTRY,
    (S.ENTRY, T.ENTRY_FILLED): S.MONITORING,
    (S.ENTRY, T.ENTRY_VOID): S.CLOSED,
    (S.MONITORING, T.MARK): S.MONITORING,
    (S.MONITORING, T.STOP_HIT): S.STOP_TRIGGERED,
    (S.MONITORING, T.TP_HIT): S.TP_TRIGGERED,
    (S.MONITORING, T.EXPIRED): S.EXPIRY,
    (S.MONITORING, T.FLATTENED): S.STOP_TRIGGERED,
    **{(s, T.EXIT_ORDERED): S.EXIT_PENDING for s in _TRIGGERED},
    **{(s, T.HOLD_TO_RESOLUTION): S.EXIT_PENDING for s in _TRIGGERED},
    (S.EXIT_PENDING, T.HOLD_TO_RESOLUTION): S.EXIT_PENDING,
    (S.EXIT_PENDING, T.EXIT_PARTIAL): S.EXIT_PENDING,
    (S.EXIT_PENDING, T.EXIT_FILLED): S.CLOSED,
    (S.EXIT_PENDING, T.RESOLVED_PAYOUT_DUE): S.EXIT_PENDING,
    (S.EXIT_PENDING, T.RESOLVED_NOTHING_DUE): S.CLOSED,
    (S.EXIT_PENDING, T.REDEEMED): S.CLOSED,
}
"""Every allowed (state, trigger) pair. CLOSED has no way out."""

_REASON_TRIGGER = {
    ExitReason.STOP_LOSS: T.STOP_HIT,
    ExitReason.TAKE_PROFIT: T.TP_HIT,
    ExitReason.TRAILING_TAKE_PROFIT: T.TP_HIT,
    ExitReason.EXPIRY: T.EXPIRED,
    ExitReason.FLATTEN: T.FLATTENED,
}


class InvalidTransition(ValueError):
    """An event the position's state does not allow: a bug upstream, never to be skipped silently."""


@dataclass(frozen=True, slots=True)
class Position:
    """One position's numbers. Money is exact Decimal: `entry_cost` and `exit_proceeds` are the
    sums of price x size of the trades; fees are kept apart; `intended_*` are the prices the
    decisions counted on, so slippage can be reported for every fill."""

    position_id: str
    state: PositionState = S.ENTRY
    size: Decimal = _ZERO
    entry_size: Decimal = _ZERO
    entry_cost: Decimal = _ZERO
    entry_fees: Decimal = _ZERO
    entry_slippage: Decimal = _ZERO
    exit_size: Decimal = _ZERO
    exit_proceeds: Decimal = _ZERO
    exit_fees: Decimal = _ZERO
    exit_slippage: Decimal = _ZERO
    peak_price: Decimal | None = None
    exit_reason: ExitReason | None = None
    exit_order_id: str | None = None
    held_to_resolution: bool = False
    hold_reason: str = ""
    won: bool | None = None
    payout: Decimal = _ZERO
    trade_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def avg_entry_price(self) -> Decimal | None:
        return self.entry_cost / self.entry_size if self.entry_size else None

    @property
    def fees(self) -> Decimal:
        return self.entry_fees + self.exit_fees

    @property
    def payout_due(self) -> Decimal:
        """A won position's payout not yet redeemed: capital that is not available yet."""
        return self.size if self.won and self.state is not S.CLOSED else _ZERO


@dataclass(frozen=True, slots=True)
class EntryTrade:
    """A trade of the entry order: `size` shares bought at `price` with `fee`."""

    trade_id: str
    size: Decimal
    price: Decimal
    fee: Decimal
    intended_price: Decimal


@dataclass(frozen=True, slots=True)
class EntryDone:
    """The entry order is final: MONITORING with what filled, or CLOSED when nothing did."""


@dataclass(frozen=True, slots=True)
class Mark:
    """A price the position could exit at now (the best bid): tracks the peak for trailing exits."""

    price: Decimal


@dataclass(frozen=True, slots=True)
class Triggered:
    reason: ExitReason


@dataclass(frozen=True, slots=True)
class ExitOrdered:
    client_order_id: str


@dataclass(frozen=True, slots=True)
class HeldToResolution:
    """The book is too thin to exit (what is left of) the position: it is held to resolution."""

    reason: str


@dataclass(frozen=True, slots=True)
class ExitTrade:
    trade_id: str
    size: Decimal
    price: Decimal
    fee: Decimal
    intended_price: Decimal


@dataclass(frozen=True, slots=True)
class Resolved:
    """The window resolved: the position's token won (pays 1 a share once redeemed) or lost (0)."""

    won: bool


@dataclass(frozen=True, slots=True)
class Redeemed:
    """The payout of a won position is in the balance."""

    amount: Decimal


PositionEvent = (
    EntryTrade
    | EntryDone
    | Mark
    | Triggered
    | ExitOrdered
    | HeldToResolution
    | ExitTrade
    | Resolved
    | Redeemed
)


def trigger_of(position: Position, event: PositionEvent) -> PositionTrigger:
    """The trigger an event is for this position (some events' trigger depends on its numbers)."""
    match event:
        case EntryTrade():
            return T.ENTRY_TRADE
        case EntryDone():
            return T.ENTRY_FILLED if position.size > _ZERO else T.ENTRY_VOID
        case Mark():
            return T.MARK
        case Triggered(reason=reason):
            return _REASON_TRIGGER[reason]
        case ExitOrdered():
            return T.EXIT_ORDERED
        case HeldToResolution():
            return T.HOLD_TO_RESOLUTION
        case ExitTrade(size=size):
            return T.EXIT_FILLED if size >= position.size else T.EXIT_PARTIAL
        case Resolved(won=won):
            return T.RESOLVED_PAYOUT_DUE if won and position.size > _ZERO else T.RESOLVED_NOTHING_DUE
        case Redeemed():
            return T.REDEEMED


def apply(position: Position, event: PositionEvent) -> Position:
    """The position after `event`; raises InvalidTransition when its state does not allow it."""
    if isinstance(event, EntryTrade | ExitTrade) and event.trade_id in position.trade_ids:
        return position
    trigger = trigger_of(position, event)
    target = NEXT.get((position.state, trigger))
    if target is None:
        raise InvalidTransition(
            f"{position.position_id}: {trigger.value} not allowed in {position.state.value}"
        )
    changed = _numbers(position, event)
    return replace(changed, state=target)


def _numbers(p: Position, event: PositionEvent) -> Position:
    match event:
        case EntryTrade(trade_id=tid, size=size, price=price, fee=fee, intended_price=intended):
            _check_trade(size, price, fee)
            return replace(
                p,
                size=p.size + size,
                entry_size=p.entry_size + size,
                entry_cost=p.entry_cost + size * price,
                entry_fees=p.entry_fees + fee,
                entry_slippage=p.entry_slippage + size * (price - intended),
                trade_ids=p.trade_ids | {tid},
            )
        case Mark(price=price):
            peak = price if p.peak_price is None else max(p.peak_price, price)
            return replace(p, peak_price=peak)
        case Triggered(reason=reason):
            return replace(p, exit_reason=reason)
        case ExitOrdered(client_order_id=coid):
            return replace(p, exit_order_id=coid)
        case HeldToResolution(reason=reason):
            return replace(p, held_to_resolution=True, hold_reason=reason)
        case ExitTrade(trade_id=tid, size=size, price=price, fee=fee, intended_price=intended):
            _check_trade(size, price, fee)
            if size > p.size:
                raise InvalidTransition(f"{p.position_id}: exit of {size} shares, {p.size} held")
            return replace(
                p,
                size=p.size - size,
                exit_size=p.exit_size + size,
                exit_proceeds=p.exit_proceeds + size * price,
                exit_fees=p.exit_fees + fee,
                exit_slippage=p.exit_slippage + size * (intended - price),
                trade_ids=p.trade_ids | {tid},
            )
        case Resolved(won=won):
            return replace(p, won=won) if won else replace(p, won=False, size=_ZERO)
        case Redeemed(amount=amount):
            if p.won is not True:
                raise InvalidTransition(f"{p.position_id}: redeemed before it was resolved as won")
            if amount != p.size:
                raise InvalidTransition(f"{p.position_id}: redeemed {amount}, {p.size} shares won")
            return replace(p, payout=amount, size=_ZERO)
        case EntryDone():
            return p


def _check_trade(size: Decimal, price: Decimal, fee: Decimal) -> None:
    if size <= _ZERO or not _ZERO <= price <= Decimal(1) or fee < _ZERO:
        raise ValueError(f"not a trade: {size} @ {price}, fee {fee}")
