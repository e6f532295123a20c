"""Per-market exchange state and the market-channel events built from it (POLYMARKET.md §7)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from simulator.book import BookSide, MarketBook
from simulator.markets import SimMarket
from simulator.wire import Json, book_json, fmt


@dataclass(slots=True)
class MarketState:
    market: SimMarket
    book: MarketBook
    tick: Decimal
    closed: bool = False
    winner: str | None = None
    last_trade: dict[str, tuple[Decimal, str]] = field(default_factory=dict)
    top: dict[str, tuple[Decimal | None, Decimal | None]] = field(default_factory=dict)

    def book_body(self, token: str, now_ms: int) -> Json:
        last = self.last_trade.get(token)
        return book_json(self.market, token, self.book, now_ms, self.tick, last[0] if last else None)

    def book_event(self, token: str, now_ms: int) -> Json:
        return {"event_type": "book", **self.book_body(token, now_ms)}


def _best(value: Decimal | None, default: str) -> str:
    return fmt(value) if value is not None else default


def price_change_event(
    state: MarketState, touched: list[tuple[BookSide, Decimal]], now_ms: int, rng: random.Random
) -> Json:
    """One `price_change` with an entry per changed level per token (new totals, "0" deletes)."""
    entries: list[Json] = []
    for token in state.market.token_ids:
        bid, ask = state.book.best_for(token)
        for up_side, up_price in touched:
            side, price, size = state.book.level_for(token, up_side, up_price)
            entries.append(
                {
                    "asset_id": token,
                    "price": fmt(price),
                    "size": fmt(size),
                    "side": side,
                    "hash": f"{rng.getrandbits(160):040x}",
                    "best_bid": _best(bid, "0"),
                    "best_ask": _best(ask, "1"),
                }
            )
    return {
        "event_type": "price_change",
        "market": state.market.condition_id,
        "timestamp": str(now_ms),
        "price_changes": entries,
    }


def top_change_events(state: MarketState, now_ms: int) -> list[Json]:
    """`best_bid_ask` for each token whose top of book moved since the last call."""
    out: list[Json] = []
    for token in state.market.token_ids:
        top = state.book.best_for(token)
        if state.top.get(token) == top:
            continue
        state.top[token] = top
        bid, ask = top
        out.append(
            {
                "event_type": "best_bid_ask",
                "asset_id": token,
                "market": state.market.condition_id,
                "best_bid": _best(bid, "0"),
                "best_ask": _best(ask, "1"),
                "spread": fmt(ask - bid) if bid is not None and ask is not None else "1",
                "timestamp": str(now_ms),
            }
        )
    return out


def last_trade_event(
    state: MarketState, token: str, price: Decimal, side: str, size: Decimal, fee_bps: int, now_ms: int
) -> Json:
    return {
        "event_type": "last_trade_price",
        "asset_id": token,
        "market": state.market.condition_id,
        "price": fmt(price),
        "side": side,
        "size": fmt(size),
        "fee_rate_bps": str(fee_bps),
        "timestamp": str(now_ms),
    }


def tick_change_event(condition_id: str, token: str, old: Decimal, new: Decimal, now_ms: int) -> Json:
    return {
        "event_type": "tick_size_change",
        "asset_id": token,
        "market": condition_id,
        "old_tick_size": fmt(old),
        "new_tick_size": fmt(new),
        "timestamp": str(now_ms),
    }
