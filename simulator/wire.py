"""The venue's JSON shapes (POLYMARKET.md §5, §7, §8), built from simulator state.

Prices and sizes go out as decimal strings without exponent or trailing zeros ("0.57", "35.5");
timestamps in milliseconds as strings on books and sockets, seconds as integers in REST records.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from simulator.markets import SimMarket

if TYPE_CHECKING:
    from simulator.book import MarketBook, Order
    from simulator.trades import TradeRecord

Json = dict[str, Any]


def fmt(value: Decimal) -> str:
    """Decimal -> the venue's plain decimal string."""
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    return text


def book_json(
    market: SimMarket,
    token_id: str,
    book: MarketBook,
    timestamp_ms: int,
    tick: Decimal,
    last_trade: Decimal | None,
) -> Json:
    """`GET /book` body (and the WS `book` event minus `event_type`), with the §5 SHA-1 hash."""
    bids, asks = book.levels(token_id)
    body: Json = {
        "market": market.condition_id,
        "asset_id": token_id,
        "timestamp": str(timestamp_ms),
        "hash": "",
        "bids": [{"price": fmt(p), "size": fmt(s)} for p, s in bids],
        "asks": [{"price": fmt(p), "size": fmt(s)} for p, s in asks],
        "min_order_size": fmt(market.min_order_size),
        "tick_size": fmt(tick),
        "neg_risk": market.neg_risk,
        "last_trade_price": fmt(last_trade) if last_trade is not None else "0.5",
    }
    serial = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    body["hash"] = hashlib.sha1(serial.encode()).hexdigest()
    return body


def order_json(order: Order, market: SimMarket) -> Json:
    """An open-order record as `/data/orders` and `/data/order/{id}` serve it."""
    return {
        "id": order.id,
        "status": order.status,
        "owner": order.api_key,
        "maker_address": order.maker_address,
        "market": market.condition_id,
        "asset_id": order.token_id,
        "side": order.side,
        "original_size": fmt(order.original_size),
        "size_matched": fmt(order.size_matched),
        "price": fmt(order.price),
        "outcome": market.outcome_of(order.token_id),
        "expiration": str(order.expiration),
        "order_type": order.order_type,
        "associate_trades": list(order.trade_ids),
        "created_at": order.created_at,
    }


def order_event(order: Order, market: SimMarket, kind: str, timestamp_ms: int) -> Json:
    """User-channel `order` frame: PLACEMENT, UPDATE or CANCELLATION."""
    body = order_json(order, market)
    body.update(
        event_type="order",
        type=kind,
        order_owner=order.api_key,
        timestamp=str(timestamp_ms),
    )
    return body


def trade_json(trade: TradeRecord, market: SimMarket, viewer: str | None) -> Json:
    """A trade record; `viewer` (an account) decides `trader_side` and `owner`."""
    maker = trade.maker
    as_maker = viewer is not None and viewer == maker.account and viewer != trade.taker.account
    return {
        "id": trade.id,
        "taker_order_id": trade.taker.id,
        "market": market.condition_id,
        "asset_id": trade.taker.token_id,
        "side": trade.taker.side,
        "size": fmt(trade.size),
        "fee_rate_bps": str(trade.fee_rate_bps),
        "price": fmt(trade.taker_price),
        "status": trade.status,
        "match_time": str(trade.match_time),
        "last_update": str(trade.last_update),
        "outcome": market.outcome_of(trade.taker.token_id),
        "bucket_index": 0,
        "owner": maker.api_key if as_maker else trade.taker.api_key,
        "maker_address": maker.maker_address if as_maker else trade.taker.maker_address,
        "transaction_hash": trade.transaction_hash,
        "trader_side": "MAKER" if as_maker else "TAKER",
        "maker_orders": [
            {
                "order_id": maker.id,
                "owner": maker.api_key,
                "maker_address": maker.maker_address,
                "matched_amount": fmt(trade.size),
                "price": fmt(trade.maker_price),
                "fee_rate_bps": "0",
                "asset_id": maker.token_id,
                "outcome": market.outcome_of(maker.token_id),
                "side": maker.side,
            }
        ],
    }


def trade_event(trade: TradeRecord, market: SimMarket, viewer: str, timestamp_ms: int) -> Json:
    body = trade_json(trade, market, viewer)
    body.update(event_type="trade", type="TRADE", timestamp=str(timestamp_ms))
    return body


def market_info_json(market: SimMarket, tick: Decimal, closed: bool, winner: str | None) -> Json:
    """`GET /markets/{condition_id}`: the CLOB's market object with `tokens[]`."""
    return {
        "condition_id": market.condition_id,
        "question_id": market.condition_id,
        "question": market.question,
        "market_slug": market.slug,
        "description": market.description,
        "end_date_iso": market.end.isoformat().replace("+00:00", "Z"),
        "game_start_time": market.start.isoformat().replace("+00:00", "Z"),
        "active": not closed,
        "closed": closed,
        "archived": False,
        "accepting_orders": not closed,
        "enable_order_book": True,
        "minimum_order_size": int(market.min_order_size),
        # JSON numbers on the wire, as the venue sends them; never used for money here.
        "minimum_tick_size": float(tick),
        "neg_risk": market.neg_risk,
        "maker_base_fee": 1000 if market.fee_rate else 0,
        "taker_base_fee": 1000 if market.fee_rate else 0,
        "tokens": [
            {
                "token_id": token,
                "outcome": market.outcome_of(token),
                "price": 0.5 if winner is None else (1 if token == winner else 0),
                "winner": winner == token,
            }
            for token in market.token_ids
        ],
    }


def clob_market_json(market: SimMarket, tick: Decimal) -> Json:
    """V2 `GET /clob-markets/{condition_id}`: the compact form py-clob-client-v2 caches."""
    return {
        "c": market.condition_id,
        "t": [{"t": token, "o": market.outcome_of(token)} for token in market.token_ids],
        "mts": float(tick),
        "mos": int(market.min_order_size),
        "nr": market.neg_risk,
        "fd": {"r": float(market.fee_rate), "e": market.fee_exponent, "to": True},
        "itode": 0,
    }


def market_lifecycle_event(
    market: SimMarket, kind: str, timestamp_ms: int, winner: str | None = None
) -> Json:
    """`new_market` or `market_resolved` (market channel, custom features only)."""
    body: Json = {
        "event_type": kind,
        "id": market.market_id or market.condition_id,
        "question": market.question,
        "market": market.condition_id,
        "slug": market.slug,
        "description": market.description,
        "assets_ids": list(market.token_ids),
        "outcomes": list(market.outcomes),
        "timestamp": str(timestamp_ms),
    }
    if winner is not None:
        body["winning_asset_id"] = winner
        body["winning_outcome"] = market.outcome_of(winner)
    return body
