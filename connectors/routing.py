"""Which topic an event goes to, and the keys de-duplication and capture rates use for it."""

from __future__ import annotations

from core.models import (
    BestBidAsk,
    BookDelta,
    BookSnapshot,
    Candle,
    Event,
    Fill,
    LastTrade,
    MarketEvent,
    OracleTick,
    OrderUpdate,
    SpotTick,
    TickSizeChange,
    WindowEvent,
)

_TOPIC: dict[type[Event], str] = {
    BookSnapshot: "md.book",
    BookDelta: "md.book",
    TickSizeChange: "md.book",
    BestBidAsk: "md.book",
    LastTrade: "md.trades",
    OracleTick: "md.oracle",
    SpotTick: "md.spot",
    Candle: "md.spot",
    WindowEvent: "md.windows",
    Fill: "trade.executions",
    OrderUpdate: "trade.executions",
}


def topic_for(event: Event) -> str:
    """The declared topic of an event; an event type with no topic here is a bug (KeyError)."""
    try:
        return _TOPIC[type(event)]
    except KeyError:
        raise KeyError(f"no topic for {type(event).__name__}") from None


def order_key(event: Event) -> str:
    """What out-of-order is judged per: the event's kind and its token, symbol or window."""
    kind = getattr(event, "kind", type(event).__name__)
    for attr in ("token_id", "symbol", "window_id"):
        value = getattr(event, attr, None)
        if value is not None:
            extra = getattr(event, "stream", None) or getattr(event, "phase", None) or ""
            return f"{kind}:{value}:{extra}"
    return str(kind)


def subject_of(event: Event) -> str | None:
    """The token, symbol or window an event is about: what its per-key state is forgotten by."""
    for attr in ("token_id", "symbol", "window_id"):
        value = getattr(event, attr, None)
        if value is not None:
            return str(value)
    return None


def rate_key(event: Event) -> str | None:
    """The key a capture rate is counted under (a token or a symbol); None for other events."""
    if isinstance(event, MarketEvent):
        for attr in ("token_id", "symbol"):
            value = getattr(event, attr, None)
            if isinstance(value, str):
                return value
    return None
