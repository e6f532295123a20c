"""Our order's state through posting and confirmation, as a transition table (STYLE habit 3, 10).

The confirmation loop (user channel and polling, 5 s) ends an order in FILLED, PARTIALLY_FILLED,
REJECTED or UNKNOWN. UNKNOWN is not a guess and not a rejection: the POST got no answer (timeout,
dropped connection, a 5xx that does not say the order was refused), or the loop ran out of time;
the order may exist at the venue. Only the venue settles it (the user channel, a `GET` of the
order, reconciliation): until then `core.execution_guards` refuses re-entry on that window.

Events carry what the venue said, normalised: `VenueView` is the order as the venue reports it
(matched size so far and whether it still rests), and the trigger is derived from it; `Refused`
is a definite answer that nothing was placed (retryable ones, 425/429/503, send the same signed
payload again: the order id is its digest, so a copy that did land is refused as Duplicated).
`apply` raises `InvalidTransition` for a pair not in `NEXT`, never moves `size_matched` backwards
except by a failed trade, and applies a trade id once. Pure: Decimal only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import StrEnum

from core.enums import OrderStatus, OrderType

__all__ = [
    "FINAL",
    "NEXT",
    "ConfirmTimeout",
    "InvalidTransition",
    "NoAnswer",
    "NotAtVenue",
    "OrderEvent",
    "OrderState",
    "OrderTrigger",
    "Posted",
    "Refused",
    "TradeFailed",
    "VenueView",
    "apply",
    "trigger_of",
]

_ZERO = Decimal(0)
St = OrderStatus


class OrderTrigger(StrEnum):
    POSTED = "POSTED"
    NO_ANSWER = "NO_ANSWER"
    REFUSED = "REFUSED"
    REFUSED_RETRYABLE = "REFUSED_RETRYABLE"
    ACCEPTED = "ACCEPTED"  # resting, nothing matched
    MATCHED_PART = "MATCHED_PART"  # some matched, the rest still rests
    MATCHED_PART_DONE = "MATCHED_PART_DONE"  # some matched, the rest cancelled (a FAK)
    MATCHED_ALL = "MATCHED_ALL"
    ENDED_EMPTY = "ENDED_EMPTY"  # gone from the book with nothing matched (cancelled, killed)
    EXPIRED = "EXPIRED"
    NOT_AT_VENUE = "NOT_AT_VENUE"  # the venue has no such order: it was never placed
    CONFIRM_TIMEOUT = "CONFIRM_TIMEOUT"
    REVERSED_PART = "REVERSED_PART"  # a trade failed on chain; something matched remains
    REVERSED_ALL = "REVERSED_ALL"  # a trade failed on chain; nothing matched remains, nothing rests
    REVERSED_TO_LIVE = "REVERSED_TO_LIVE"  # a trade failed on chain; nothing matched remains, the rest rests


T = OrderTrigger
_VENUE_SAID = {
    T.ACCEPTED: St.LIVE,
    T.MATCHED_PART: St.PARTIALLY_FILLED,
    T.MATCHED_PART_DONE: St.PARTIALLY_FILLED,
    T.MATCHED_ALL: St.FILLED,
    T.ENDED_EMPTY: St.CANCELED,
}

NEXT: dict[tuple[OrderStatus, OrderTrigger], OrderStatus] = {
    (St.NEW, T.POSTED): St.SUBMITTED,
    (St.SUBMITTED, T.NO_ANSWER): St.UNKNOWN,
    (St.SUBMITTED, T.REFUSED): St.REJECTED,
    (St.SUBMITTED, T.REFUSED_RETRYABLE): St.NEW,
    (St.SUBMITTED, T.CONFIRM_TIMEOUT): St.UNKNOWN,
    **{(St.SUBMITTED, t): s for t, s in _VENUE_SAID.items()},
    # Only the venue settles UNKNOWN.
    (St.UNKNOWN, T.NO_ANSWER): St.UNKNOWN,
    (St.UNKNOWN, T.CONFIRM_TIMEOUT): St.UNKNOWN,  # the venue could not be asked in time: still unknown
    (St.UNKNOWN, T.NOT_AT_VENUE): St.REJECTED,
    **{(St.UNKNOWN, t): s for t, s in _VENUE_SAID.items()},
    **{(St.LIVE, t): s for t, s in _VENUE_SAID.items()},
    (St.LIVE, T.EXPIRED): St.EXPIRED,
    (St.LIVE, T.CONFIRM_TIMEOUT): St.UNKNOWN,
    (St.PARTIALLY_FILLED, T.MATCHED_PART): St.PARTIALLY_FILLED,
    (St.PARTIALLY_FILLED, T.MATCHED_PART_DONE): St.PARTIALLY_FILLED,
    (St.PARTIALLY_FILLED, T.MATCHED_ALL): St.FILLED,
    (St.PARTIALLY_FILLED, T.CONFIRM_TIMEOUT): St.UNKNOWN,
    (St.PARTIALLY_FILLED, T.REVERSED_PART): St.PARTIALLY_FILLED,
    (St.PARTIALLY_FILLED, T.REVERSED_ALL): St.CANCELED,
    (St.PARTIALLY_FILLED, T.REVERSED_TO_LIVE): St.LIVE,
    (St.FILLED, T.REVERSED_PART): St.PARTIALLY_FILLED,
    (St.FILLED, T.REVERSED_ALL): St.CANCELED,
}
"""Every allowed (status, trigger) pair. REJECTED, CANCELED and EXPIRED have no way out."""

FINAL = frozenset({St.FILLED, St.REJECTED, St.CANCELED, St.EXPIRED})
"""Statuses the confirmation loop stops at; PARTIALLY_FILLED is final once `done` (see OrderState)."""


class InvalidTransition(ValueError):
    """An event the order's status does not allow: a bug or a venue answer to look at, never skipped."""


@dataclass(frozen=True, slots=True)
class OrderState:
    """One order of ours. `done`: the venue holds nothing more of it (a FAK's rest was dropped)."""

    client_order_id: str
    order_type: OrderType
    size: Decimal
    status: OrderStatus = St.NEW
    size_matched: Decimal = _ZERO
    done: bool = False
    venue_order_id: str | None = None
    detail: str = ""
    trade_ids: frozenset[str] = field(default_factory=frozenset)
    failed_trade_ids: frozenset[str] = field(default_factory=frozenset)

    @property
    def settled(self) -> bool:
        """The order's outcome is known and final: nothing more can fill."""
        return self.status in FINAL or (self.status is St.PARTIALLY_FILLED and self.done)

    @property
    def unknown(self) -> bool:
        return self.status is St.UNKNOWN


@dataclass(frozen=True, slots=True)
class Posted:
    """The signed order went out; its venue id (the digest of the signed payload) is already known."""

    venue_order_id: str


@dataclass(frozen=True, slots=True)
class NoAnswer:
    detail: str


@dataclass(frozen=True, slots=True)
class Refused:
    """A definite answer that the order was not placed; `retryable` for 425, 429 and 503."""

    detail: str
    retryable: bool = False


@dataclass(frozen=True, slots=True)
class VenueView:
    """The order as the venue reports it: matched so far, and whether any of it still rests."""

    size_matched: Decimal
    resting: bool
    expired: bool = False
    trade_id: str | None = None


@dataclass(frozen=True, slots=True)
class NotAtVenue:
    """Reconciliation asked the venue by order id and it has no such order."""


@dataclass(frozen=True, slots=True)
class ConfirmTimeout:
    """The confirmation loop's time ran out before the order was settled."""


@dataclass(frozen=True, slots=True)
class TradeFailed:
    """A trade of this order failed on chain: its size was never matched."""

    trade_id: str
    size: Decimal


OrderEvent = Posted | NoAnswer | Refused | VenueView | NotAtVenue | ConfirmTimeout | TradeFailed


def trigger_of(order: OrderState, event: OrderEvent) -> OrderTrigger:
    match event:
        case Posted():
            return T.POSTED
        case NoAnswer():
            return T.NO_ANSWER
        case Refused(retryable=retryable):
            return T.REFUSED_RETRYABLE if retryable else T.REFUSED
        case VenueView(size_matched=matched, resting=resting, expired=expired):
            if expired and matched == _ZERO:
                return T.EXPIRED
            if matched >= order.size:
                return T.MATCHED_ALL
            if matched > _ZERO:
                return T.MATCHED_PART if resting else T.MATCHED_PART_DONE
            return T.ACCEPTED if resting else T.ENDED_EMPTY
        case NotAtVenue():
            return T.NOT_AT_VENUE
        case ConfirmTimeout():
            return T.CONFIRM_TIMEOUT
        case TradeFailed(size=size):
            if order.size_matched - size > _ZERO:
                return T.REVERSED_PART
            return T.REVERSED_ALL if order.done else T.REVERSED_TO_LIVE


def apply(order: OrderState, event: OrderEvent) -> OrderState:
    """The order after `event`; raises InvalidTransition for a pair the table does not hold."""
    if isinstance(event, TradeFailed) and event.trade_id in order.failed_trade_ids:
        return order
    if isinstance(event, ConfirmTimeout) and order.settled:
        raise InvalidTransition(f"{order.client_order_id}: confirmation timeout on a settled order")
    trigger = trigger_of(order, event)
    target = NEXT.get((order.status, trigger))
    if target is None:
        raise InvalidTransition(
            f"{order.client_order_id}: {trigger.value} not allowed in {order.status.value}"
        )
    match event:
        case Posted(venue_order_id=vid):
            return replace(order, status=target, venue_order_id=vid)
        case NoAnswer(detail=detail) | Refused(detail=detail):
            return replace(order, status=target, detail=detail)
        case VenueView(size_matched=matched, trade_id=tid):
            if matched < order.size_matched:
                raise InvalidTransition(
                    f"{order.client_order_id}: venue reports {matched} matched after {order.size_matched}"
                )
            if matched > order.size:
                raise InvalidTransition(f"{order.client_order_id}: {matched} matched of {order.size}")
            ids = order.trade_ids | {tid} if tid else order.trade_ids
            done = trigger in (T.MATCHED_PART_DONE, T.MATCHED_ALL, T.ENDED_EMPTY, T.EXPIRED)
            return replace(order, status=target, size_matched=matched, done=done, trade_ids=ids)
        case TradeFailed(trade_id=tid, size=size):
            if size <= _ZERO or size > order.size_matched:
                raise InvalidTransition(
                    f"{order.client_order_id}: failed trade of {size}, {order.size_matched} matched"
                )
            return replace(
                order,
                status=target,
                size_matched=order.size_matched - size,
                failed_trade_ids=order.failed_trade_ids | {tid},
            )
        case NotAtVenue() | ConfirmTimeout():
            return replace(order, status=target)
