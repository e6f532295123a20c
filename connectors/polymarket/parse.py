"""Polymarket market-channel frames and REST books -> core events (POLYMARKET.md §5, §7).

Every function returns a `Parsed` and never raises on bad input: malformed JSON, an unknown
`event_type` or a missing field becomes a reject reason, and one bad item of an array rejects only
itself. Each market event carries `source_ts` (the venue's `timestamp`), the `recv_ts` passed in,
and a `source_id` stable across re-sends of the same venue message, for de-duplication.
Gamma market objects are parsed by `gamma_parse.parse_gamma_market` (re-exported here), user-channel
frames by `user_parse.parse_user_frame`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.frames import each_item, frame_text, load_json
from connectors.parsing import Parsed
from connectors.polymarket.gamma_parse import parse_gamma_market
from connectors.polymarket.schemas import (
    MARKET_MESSAGE,
    BestBidAskMessage,
    BookMessage,
    LastTradePriceMessage,
    MarketResolvedMessage,
    PriceChangeMessage,
    TickSizeChangeMessage,
)
from connectors.polymarket.slugs import parse_slug
from core.enums import BookSide, Outcome, Side, WindowPhase
from core.models import (
    BestBidAsk,
    BookDelta,
    BookSnapshot,
    Event,
    LastTrade,
    Level,
    LevelChange,
    TickSizeChange,
    WindowEvent,
)
from core.orderbook import book_hash_matches
from core.timestamps import from_ms

__all__ = [
    "parse_gamma_market",
    "parse_market_frame",
    "parse_rest_book",
]

_BOOK_SIDE = {"BUY": BookSide.BID, "SELL": BookSide.ASK}
_FEE_QUANTUM = Decimal("0.00001")


def _control(raw: str | bytes) -> bool:
    return frame_text(raw) == "PONG"


# -- market channel ---------------------------------------------------------------------------------


def parse_market_frame(raw: str | bytes, recv_ts: datetime) -> Parsed:
    """One market-channel frame (an event or a JSON array of events) -> md.book / md.trades events.

    `book` -> BookSnapshot; `price_change` (either shape) -> one BookDelta per token it names;
    `tick_size_change`, `best_bid_ask`, `last_trade_price` -> their events; `market_resolved` ->
    WindowEvent(RESOLVED) with the venue's outcome. `new_market` is announced for every market on
    the venue, so it yields nothing: Gamma discovery is the source of windows. `PONG` is control.
    """
    if _control(raw):
        return Parsed(control=True)
    value, why = load_json(raw)
    if why is not None:
        return Parsed.reject(why)
    events, rejects = each_item(value, lambda item: _market_item(item, recv_ts))
    return Parsed(events=tuple(events), rejects=tuple(rejects))


def _market_item(item: dict[str, Any], recv_ts: datetime) -> tuple[list[Event], list[str]]:
    msg = MARKET_MESSAGE.validate_python(item)
    if isinstance(msg, BookMessage):
        return [_book(msg, recv_ts)], []
    if isinstance(msg, PriceChangeMessage):
        return _price_change(msg, recv_ts)
    if isinstance(msg, TickSizeChangeMessage):
        return [_tick_size(msg, recv_ts)], []
    if isinstance(msg, LastTradePriceMessage):
        return [_last_trade(msg, recv_ts)], []
    if isinstance(msg, BestBidAskMessage):
        return [_best_bid_ask(msg, recv_ts)], []
    if isinstance(msg, MarketResolvedMessage):
        resolved = _resolved(msg, recv_ts)
        return ([resolved], []) if isinstance(resolved, WindowEvent) else ([], [resolved] if resolved else [])
    return [], []


def _book(msg: BookMessage, recv_ts: datetime) -> BookSnapshot:
    """Levels are re-sorted best-first by price: the served order (best last) is not relied upon."""
    return BookSnapshot(
        source_ts=from_ms(msg.timestamp),
        recv_ts=recv_ts,
        source_id=f"book:{msg.asset_id}:{msg.timestamp}:{msg.hash or ''}",
        token_id=msg.asset_id,
        condition_id=msg.market,
        bids=tuple(Level(price=b.price, size=b.size) for b in sorted(msg.bids, key=lambda b: -b.price)),
        asks=tuple(Level(price=a.price, size=a.size) for a in sorted(msg.asks, key=lambda a: a.price)),
        tick_size=msg.tick_size,
        book_hash=msg.hash,
    )


def parse_rest_book(body: Mapping[str, Any], recv_ts: datetime) -> BookSnapshot | str:
    """A `GET /book` body -> a BookSnapshot for a resync, or why not; its §5 hash must verify."""
    if not isinstance(body, Mapping) or not book_hash_matches(body):
        return "/book body missing keys or its hash does not match its content"
    try:
        return _book(BookMessage.model_validate({**body, "event_type": "book"}), recv_ts)
    except ValueError as exc:
        return f"/book body unusable: {str(exc)[:200]}"


def _content_digest(changes: list[LevelChange]) -> str:
    text = ";".join(f"{c.side.value}:{c.price}:{c.size}" for c in changes)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _price_change(msg: PriceChangeMessage, recv_ts: datetime) -> tuple[list[Event], list[str]]:
    """One BookDelta per token, changes in wire order; best bid/ask and hash from its last entry.

    An entry without `size` cannot be applied (the new total is unknown): it is rejected and the
    rest is kept; the delta's best bid/ask then reveals the gap as drift.
    """
    per_token: dict[str, tuple[list[LevelChange], dict[str, Any]]] = {}
    rejects: list[str] = []
    if msg.price_changes is not None:
        entries = [
            (e.asset_id, e.side, e.price, e.size, e.hash, e.best_bid, e.best_ask) for e in msg.price_changes
        ]
    else:
        assert msg.asset_id is not None and msg.changes is not None
        entries = [(msg.asset_id, c.side, c.price, c.size, msg.hash, None, None) for c in msg.changes]
    for asset_id, side, price, size, hash_, best_bid, best_ask in entries:
        changes, last = per_token.setdefault(asset_id, ([], {}))
        if size is None:
            rejects.append(f"price_change: entry without size for {asset_id} {side} {price}")
            continue
        changes.append(LevelChange(side=_BOOK_SIDE[side], price=price, size=size))
        last.update(hash=hash_, best_bid=best_bid, best_ask=best_ask)
    events: list[Event] = []
    for asset_id, (changes, last) in per_token.items():
        if not changes:
            continue
        hash_ = last.get("hash")
        events.append(
            BookDelta(
                source_ts=from_ms(msg.timestamp),
                recv_ts=recv_ts,
                source_id=f"price_change:{asset_id}:{msg.timestamp}:{hash_ or _content_digest(changes)}",
                token_id=asset_id,
                condition_id=msg.market,
                changes=tuple(changes),
                best_bid=last.get("best_bid"),
                best_ask=last.get("best_ask"),
                book_hash=hash_,
            )
        )
    return events, rejects


def _tick_size(msg: TickSizeChangeMessage, recv_ts: datetime) -> TickSizeChange:
    return TickSizeChange(
        source_ts=from_ms(msg.timestamp),
        recv_ts=recv_ts,
        source_id=f"tick_size_change:{msg.asset_id}:{msg.timestamp}:{msg.new_tick_size}",
        token_id=msg.asset_id,
        condition_id=msg.market,
        old_tick_size=msg.old_tick_size,
        new_tick_size=msg.new_tick_size,
    )


def _last_trade(msg: LastTradePriceMessage, recv_ts: datetime) -> LastTrade:
    key = f"{msg.asset_id}:{msg.timestamp}:{msg.price}:{msg.size}:{msg.side}:{msg.transaction_hash or ''}"
    return LastTrade(
        source_ts=from_ms(msg.timestamp),
        recv_ts=recv_ts,
        source_id=f"last_trade_price:{key}",
        token_id=msg.asset_id,
        condition_id=msg.market,
        price=msg.price,
        size=msg.size,
        side=Side(msg.side),
        fee_rate_bps=msg.fee_rate_bps,
    )


def _best_bid_ask(msg: BestBidAskMessage, recv_ts: datetime) -> BestBidAsk:
    """As sent: the venue marks an empty side with best bid "0" / best ask "1"."""
    return BestBidAsk(
        source_ts=from_ms(msg.timestamp),
        recv_ts=recv_ts,
        source_id=f"best_bid_ask:{msg.asset_id}:{msg.timestamp}:{msg.best_bid}:{msg.best_ask}",
        token_id=msg.asset_id,
        condition_id=msg.market,
        best_bid=msg.best_bid,
        best_ask=msg.best_ask,
    )


def _resolved(msg: MarketResolvedMessage, recv_ts: datetime) -> WindowEvent | str | None:
    """The fastest resolution signal; None (ignored) for markets that are not Up/Down windows."""
    info = parse_slug(msg.slug, recv_ts)
    if info is None:
        return None
    labels = dict(zip(msg.outcomes, msg.assets_ids, strict=False))
    if "Up" not in labels or "Down" not in labels:
        return f"market_resolved {msg.slug}: outcomes {msg.outcomes} are not Up/Down"
    winner = {labels["Up"]: Outcome.UP, labels["Down"]: Outcome.DOWN}.get(msg.winning_asset_id)
    if winner is None:
        return f"market_resolved {msg.slug}: winning_asset_id is neither token"
    return WindowEvent(
        source_ts=from_ms(msg.timestamp),
        recv_ts=recv_ts,
        source_id=f"market_resolved:{msg.market}:{msg.timestamp}",
        phase=WindowPhase.RESOLVED,
        window_id=msg.slug,
        asset=info.asset,
        interval_s=info.interval_s,
        condition_id=msg.market,
        up_token_id=labels["Up"],
        down_token_id=labels["Down"],
        start_ts=info.start,
        end_ts=info.end,
        venue_outcome=winner,
    )
