"""What the executor decides about one entry, apart from the guards (`core.execution_guards`), the
order states (`core.orders`) and the position lifecycle (`core.positions`), which it applies.

- Ids: a position's id and a simulated order's venue id derive from the client order id, so a
  restarted executor finds both again (`position_id_for`, `simulated_venue_order_id`).
- A failed POST becomes an order event by what the answer proves (`post_failure_event`): no answer
  or a 5xx that does not say the order was refused is `NoAnswer` (UNKNOWN until the venue is
  asked), 425/429/503 a retryable refusal (the same signed payload goes again after the wait; a copy
  that landed is refused as a duplicate), any other 4xx a definite refusal.
- What the venue reports about an order (`/data/order/{id}`, the user channel) is a `VenueView`.
- A simulated fill becomes the same order events and trades a venue fill would (`simulated_events`),
  so every mode ends in the same rows, fill fields apart.

Pure: no I/O, no clock; Decimal only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from core.enums import Outcome, Side, TradeStatus
from core.fills import FillOutcome, SimulatedFill, levels_from
from core.ids import ClientOrderId, VenueOrderId
from core.models import OrderIntent
from core.money import parse_decimal
from core.orders import NoAnswer, OrderEvent, Refused, VenueView

__all__ = [
    "DEFAULT_MAX_INTENT_AGE",
    "RETRYABLE_STATUSES",
    "TradeSeen",
    "decision_book",
    "is_duplicate_refusal",
    "position_id_for",
    "post_failure_event",
    "simulated_events",
    "simulated_trade_id",
    "simulated_venue_order_id",
    "stale_intent",
    "venue_view",
]

RETRYABLE_STATUSES = frozenset({425, 429, 503})
"""Answers that say the order was not taken now, and another try later may be."""
_REFUSED_5XX_TEXTS = ("trading is currently", "post-only mode")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def position_id_for(client_order_id: ClientOrderId) -> str:
    """The position an entry order opens: one entry order, one position."""
    return f"pos-{client_order_id}"


def simulated_venue_order_id(client_order_id: ClientOrderId) -> VenueOrderId:
    """A venue-shaped id (0x + 64 hex) for an order no venue saw (PAPER, BACKTEST)."""
    return VenueOrderId("0x" + _digest("simulated-order", client_order_id))


def simulated_trade_id(client_order_id: ClientOrderId, level: int) -> str:
    """The id of the `level`-th level a simulated order took: the same on every re-run."""
    return f"sim-{_digest('simulated-trade', client_order_id, str(level))[:32]}"


DEFAULT_MAX_INTENT_AGE = timedelta(seconds=30)


def decision_book(intent: OrderIntent) -> dict[Decimal, Decimal]:
    """`{price: size}` of the levels the order takes from in the book its decision saw (its token's
    asks for a BUY, bids for a SELL): what a simulated fill walks, at once or after a crash."""
    ctx = intent.context
    if ctx is None:
        return {}
    token = "up" if ctx.signal.outcome is Outcome.UP else "down"
    side = "asks" if intent.side is Side.BUY else "bids"
    return levels_from(getattr(ctx, f"{token}_{side}"))


def stale_intent(
    event_ts: datetime, now: datetime, max_age: timedelta = DEFAULT_MAX_INTENT_AGE
) -> str | None:
    """Why an intent is too old to act on, or None: a new consumer group starts at the topic's
    beginning, and a decision made minutes ago on a book that has moved must not become an order."""
    age = now - event_ts
    return (
        f"intent is {age.total_seconds():.1f} s old (max {max_age.total_seconds():g} s)"
        if age > max_age
        else None
    )


def is_duplicate_refusal(error: str) -> bool:
    """The venue's answer to a signed order it already holds (the id is the payload's digest)."""
    return "duplicat" in error.lower()


def post_failure_event(status: int | None, error: str) -> OrderEvent:
    """The order event a failed `POST /order` proves, by status and the venue's error text."""
    if status is None:
        return NoAnswer(error or "no answer")
    if status in RETRYABLE_STATUSES:
        return Refused(f"{status}: {error}", retryable=True)
    if status >= 500:
        if any(text in error.lower() for text in _REFUSED_5XX_TEXTS):
            return Refused(f"{status}: {error}", retryable=True)
        return NoAnswer(f"{status}: {error}")
    return Refused(f"{status}: {error}")


def venue_view(order: Mapping[str, Any], trade_id: str | None = None) -> VenueView:
    """An order record as `/data/order/{id}` or a user-channel `order` frame carries it."""
    status = str(order.get("status", "")).upper().removeprefix("ORDER_STATUS_")
    return VenueView(
        size_matched=parse_decimal(order.get("size_matched") or "0"),
        resting=status == "LIVE",
        expired=status.startswith("EXPIRED"),
        trade_id=trade_id,
    )


@dataclass(frozen=True, slots=True)
class TradeSeen:
    """One trade of our order, as the venue (or the simulated book) made it."""

    trade_id: str
    price: Decimal
    size: Decimal
    fee: Decimal
    status: TradeStatus = TradeStatus.CONFIRMED

    @property
    def failed(self) -> bool:
        return self.status is TradeStatus.FAILED


def simulated_events(
    client_order_id: ClientOrderId, fill: SimulatedFill
) -> tuple[list[OrderEvent], list[TradeSeen]]:
    """The order events and trades a simulated fill stands for, after the order was Posted."""
    if fill.outcome is FillOutcome.REJECTED:
        return [Refused(fill.reason)], []
    trades = [
        TradeSeen(simulated_trade_id(client_order_id, i), lv.price, lv.size, lv.fee)
        for i, lv in enumerate(fill.levels)
    ]
    return [VenueView(size_matched=fill.filled_size, resting=False)], trades
