"""Polymarket market- and user-channel frames -> core events (POLYMARKET.md §7, §8).

Every function returns a `Parsed` and never raises on bad input: malformed JSON, an unknown
`event_type` or a missing field becomes a reject reason, and one bad item of an array rejects only
itself. Each market event carries `source_ts` (the venue's `timestamp`), the `recv_ts` passed in,
and a `source_id` stable across re-sends of the same venue message, for de-duplication.
Gamma market objects are parsed by `gamma_parse.parse_gamma_market`, re-exported here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors.frames import each_item, frame_text, load_json, venue_time
from connectors.parsing import Parsed
from connectors.polymarket.gamma_parse import parse_gamma_market
from connectors.polymarket.schemas import (
    MARKET_MESSAGE,
    USER_MESSAGE,
    BestBidAskMessage,
    BookMessage,
    LastTradePriceMessage,
    MarketResolvedMessage,
    OrderMessage,
    PriceChangeMessage,
    TickSizeChangeMessage,
    TradeMessage,
)
from connectors.polymarket.slugs import parse_slug
from core.enums import BookSide, OrderStatus, Outcome, Side, TradeStatus, TradingMode, WindowPhase
from core.ids import ClientOrderId
from core.models import (
    BestBidAsk,
    BookDelta,
    BookSnapshot,
    Event,
    Fill,
    LastTrade,
    Level,
    LevelChange,
    OrderUpdate,
    TickSizeChange,
    WindowEvent,
)
from core.orderbook import book_hash_matches
from core.timestamps import from_ms

__all__ = [
    "parse_gamma_market",
    "parse_market_frame",
    "parse_rest_book",
    "parse_user_frame",
    "venue_client_order_id",
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


# -- user channel -----------------------------------------------------------------------------------


def venue_client_order_id(venue_order_id: str) -> ClientOrderId:
    """A deterministic ClientOrderId for an order known only by its venue id: "venue-" + 24 hex.

    The venue never echoes our client id; the execution consumer maps the venue id (known from the
    signed payload) back to its own. Deriving this one from the venue id keeps every frame of an
    order on the same key, also for orders placed elsewhere (96 bits make collisions negligible).
    """
    return ClientOrderId("venue-" + venue_order_id.lower().removeprefix("0x")[:24])


def parse_user_frame(
    raw: str | bytes,
    recv_ts: datetime,
    *,
    our_api_key: str | None = None,
    windows: Mapping[str, str] | None = None,
) -> Parsed:
    """One user-channel frame -> Fill events (`trade`) and OrderUpdate events (`order`).

    `our_api_key` picks our entries among a trade's `maker_orders` (without it a maker trade must
    name exactly one maker order). `windows` maps condition id -> window id (slug); an order of a
    market not in it is keyed by its lower-cased condition id, which execution can join on.
    """
    if _control(raw):
        return Parsed(control=True)
    value, why = load_json(raw)
    if why is not None:
        return Parsed.reject(why)
    known = windows or {}
    events, rejects = each_item(value, lambda item: _user_item(item, recv_ts, our_api_key, known))
    return Parsed(events=tuple(events), rejects=tuple(rejects))


def _user_item(
    item: dict[str, Any], recv_ts: datetime, our_api_key: str | None, windows: Mapping[str, str]
) -> tuple[list[Event], list[str]]:
    msg = USER_MESSAGE.validate_python(item)
    if isinstance(msg, TradeMessage):
        return _fills(msg, recv_ts, our_api_key, windows)
    return _order_update(msg, windows)


def _trade_status(status: str) -> TradeStatus | None:
    text = status.upper().removeprefix("TRADE_STATUS_")
    return TradeStatus.__members__.get(text)


def taker_fee_estimate(size: Decimal, price: Decimal, fee_rate_bps: int | None) -> Decimal:
    """`size * bps/10000 * p * (1 - p)` to 5 decimals; 0 when the frame gives no rate.

    The trade's `fee_rate_bps` is the V1 signed ceiling (1000), not the market's charged schedule
    (rate 0.07, §6.7), which this parser does not know: the value is an upper estimate that the
    execution side replaces with the schedule's fee.
    """
    if not fee_rate_bps:
        return Decimal(0)
    fee = size * Decimal(fee_rate_bps) / Decimal(10_000) * price * (1 - price)
    return fee.quantize(_FEE_QUANTUM, rounding=ROUND_HALF_UP)


def _fills(
    msg: TradeMessage, recv_ts: datetime, our_api_key: str | None, windows: Mapping[str, str]
) -> tuple[list[Event], list[str]]:
    """Our fills of one trade frame; `source_id` is f"{trade id}:{status}" (per maker order if several)."""
    status = _trade_status(msg.status)
    if status is None:
        return [], [f"trade {msg.id}: unknown status {msg.status!r}"]
    when = msg.timestamp or msg.last_update or msg.match_time
    if when is None:
        return [], [f"trade {msg.id}: no timestamp, last_update or match_time"]
    ours_as_maker = [m for m in msg.maker_orders if our_api_key is not None and m.owner == our_api_key]
    is_maker = msg.trader_side == "MAKER" or (msg.trader_side is None and bool(ours_as_maker))
    common = {
        "source_ts": venue_time(when),
        "recv_ts": recv_ts,
        "trade_id": msg.id,
        "client_order_id": None,
        "window_id": windows.get(msg.market),
        "mode": TradingMode.LIVE,
        "status": status,
        "is_maker": is_maker,
    }
    if not is_maker:
        fee = taker_fee_estimate(msg.size, msg.price, msg.fee_rate_bps)
        fill = Fill(
            **common,
            source_id=f"{msg.id}:{status.value}",
            venue_order_id=msg.taker_order_id,
            token_id=msg.asset_id,
            side=Side(msg.side),
            price=msg.price,
            size=msg.size,
            fee_usd=fee,
        )
        return [fill], []
    if our_api_key is None:
        if len(msg.maker_orders) != 1:
            return [], [f"trade {msg.id}: {len(msg.maker_orders)} maker orders and no api key to tell ours"]
        ours_as_maker = list(msg.maker_orders)
    if not ours_as_maker:
        return [], [f"trade {msg.id}: MAKER trade names no maker order of ours"]
    several = len(ours_as_maker) > 1
    return [
        Fill(
            **common,
            source_id=f"{msg.id}:{m.order_id}:{status.value}" if several else f"{msg.id}:{status.value}",
            venue_order_id=m.order_id,
            token_id=m.asset_id,
            side=Side(m.side),
            price=m.price,
            size=m.matched_amount,
            fee_usd=Decimal(0),
        )
        for m in ours_as_maker
    ], []


def _order_status(msg: OrderMessage) -> OrderStatus | None:
    """Venue order status -> ours. MATCHED short of the full size means the rest was not kept
    (a FAK/FOK remainder, or a marketable remainder the venue dropped): CANCELED with size_matched."""
    text = (msg.status or "").upper().removeprefix("ORDER_STATUS_")
    partly = msg.size_matched > 0
    if msg.type.upper() == "CANCELLATION" or text.startswith("CANCELED"):
        return OrderStatus.CANCELED
    if text.startswith("MATCHED"):
        return OrderStatus.FILLED if msg.size_matched >= msg.original_size else OrderStatus.CANCELED
    if text in ("LIVE", "UNMATCHED", ""):
        return OrderStatus.PARTIALLY_FILLED if partly else OrderStatus.LIVE
    if text.startswith("INVALID"):
        return OrderStatus.REJECTED
    if text.startswith("DELAYED"):
        return OrderStatus.SUBMITTED
    return None


def _order_update(msg: OrderMessage, windows: Mapping[str, str]) -> tuple[list[Event], list[str]]:
    status = _order_status(msg)
    if status is None:
        return [], [f"order {msg.id}: unknown status {msg.status!r}"]
    when = msg.timestamp or msg.created_at
    if when is None:
        return [], [f"order {msg.id}: no timestamp or created_at"]
    update = OrderUpdate(
        client_order_id=venue_client_order_id(msg.id),
        venue_order_id=msg.id,
        window_id=windows.get(msg.market, msg.market.lower()),
        token_id=msg.asset_id,
        mode=TradingMode.LIVE,
        status=status,
        side=Side(msg.side),
        price=msg.price,
        size=msg.original_size,
        size_matched=msg.size_matched,
        event_ts=venue_time(when),
        detail=f"{msg.type} {msg.status or ''}".strip(),
    )
    return [update], []
