"""The local order book of one token, kept from the market channel (POLYMARKET.md §7.5).

The venue sends no sequence numbers, so correctness rests on three checks this module makes:
a `book` snapshot replaces everything; a delta older than the last snapshot is ignored; and after
each delta the local top of book is compared with the venue's `best_bid`/`best_ask` on it, any
difference meaning the book has drifted and must be resynchronised from a fresh snapshot. The
REST `/book` hash (§5) is recomputed by `book_hash` to check a snapshot before trusting it.
A `CompactBookSnapshot` (a replay's decode) is held as it is and its levels parsed only when the
book is first read or changed, so a snapshot replaced before anyone looked costs no parsing.
Pure: no I/O, no clock; Decimal only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from core.enums import BookSide
from core.models import BookDelta, BookSnapshot, CompactBookSnapshot, Level, LevelChange, TickSizeChange

__all__ = ["Applied", "OrderBook", "book_hash", "book_hash_matches"]

_ZERO = Decimal(0)
_ONE = Decimal(1)


class Applied(StrEnum):
    """What applying an event did; anything but OK or STALE means: resync before trusting the book."""

    OK = "OK"
    STALE = "STALE"  # older than the last snapshot: ignored, the book is unchanged
    DRIFT = "DRIFT"  # applied, but the top of book disagrees with the venue's best bid/ask
    NOT_SYNCED = "NOT_SYNCED"  # a delta before any snapshot: nothing to apply it to
    WRONG_TOKEN = "WRONG_TOKEN"  # an event for another token: a routing bug upstream


class OrderBook:
    """Levels of one token as `{price: total size}` per side; prices and sizes are Decimal.

    Methods mutate this book and return an `Applied` value; they never raise on venue data that
    the event models already validated (prices in [0, 1], sizes >= 0).
    """

    def __init__(self, token_id: str) -> None:
        self.token_id = token_id
        self._bids: dict[Decimal, Decimal] = {}
        self._asks: dict[Decimal, Decimal] = {}
        self._unread: CompactBookSnapshot | None = None  # levels not yet parsed into the dicts
        self.snapshot_ts: datetime | None = None
        self.tick_size: Decimal | None = None

    @property
    def synced(self) -> bool:
        """True once a snapshot has been applied (and until `invalidate`)."""
        return self.snapshot_ts is not None

    def invalidate(self) -> None:
        """Forget the levels (after a reconnect or drift): the next snapshot starts afresh."""
        self._bids.clear()
        self._asks.clear()
        self._unread = None
        self.snapshot_ts = None

    def _read(self) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
        """Both sides, parsing a compact snapshot's levels first if they are still text."""
        unread = self._unread
        if unread is not None:
            self._unread = None
            self._bids = {p: s for p, s in unread.level_pairs(BookSide.BID) if s > 0}
            self._asks = {p: s for p, s in unread.level_pairs(BookSide.ASK) if s > 0}
        return self._bids, self._asks

    def apply_snapshot(self, snapshot: BookSnapshot | CompactBookSnapshot) -> Applied:
        """Replace both sides with the snapshot's levels; an older snapshot than the last is ignored."""
        if snapshot.token_id != self.token_id:
            return Applied.WRONG_TOKEN
        if self.snapshot_ts is not None and snapshot.source_ts < self.snapshot_ts:
            return Applied.STALE
        if isinstance(snapshot, CompactBookSnapshot):
            self._unread = snapshot
        else:
            self._unread = None
            self._bids = {lv.price: lv.size for lv in snapshot.bids if lv.size > 0}
            self._asks = {lv.price: lv.size for lv in snapshot.asks if lv.size > 0}
        self.snapshot_ts = snapshot.source_ts
        if snapshot.tick_size is not None:
            self.tick_size = snapshot.tick_size
        return Applied.OK

    def apply_changes(self, changes: Iterable[LevelChange]) -> None:
        """Set each level to its new total; a zero size deletes the level."""
        bids, asks = self._read()
        for change in changes:
            levels = bids if change.side is BookSide.BID else asks
            if change.size > 0:
                levels[change.price] = change.size
            else:
                levels.pop(change.price, None)

    def apply_delta(self, delta: BookDelta) -> Applied:
        """Apply a delta's level changes, then compare the top of book with the venue's on the delta."""
        if delta.token_id != self.token_id:
            return Applied.WRONG_TOKEN
        if self.snapshot_ts is None:
            return Applied.NOT_SYNCED
        if delta.source_ts < self.snapshot_ts:
            return Applied.STALE
        self.apply_changes(delta.changes)
        return Applied.OK if self.top_matches(delta.best_bid, delta.best_ask) else Applied.DRIFT

    def apply_tick_size(self, change: TickSizeChange) -> Applied:
        if change.token_id != self.token_id:
            return Applied.WRONG_TOKEN
        self.tick_size = change.new_tick_size
        return Applied.OK

    def top_matches(self, venue_bid: Decimal | None, venue_ask: Decimal | None) -> bool:
        """Whether our best bid/ask equal the venue's; None (not given) is not checked.

        The venue reports an empty side as best bid "0" / best ask "1", so those equal an empty side.
        """
        bid, ask = self.best_bid(), self.best_ask()
        bid_ok = venue_bid is None or (bid == venue_bid if bid is not None else venue_bid == _ZERO)
        ask_ok = venue_ask is None or (ask == venue_ask if ask is not None else venue_ask == _ONE)
        return bid_ok and ask_ok

    def best_bid(self) -> Decimal | None:
        bids = self._read()[0]
        return max(bids) if bids else None

    def best_ask(self) -> Decimal | None:
        asks = self._read()[1]
        return min(asks) if asks else None

    def top(self, n: int) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
        """The best `n` levels per side, best first: (bids descending, asks ascending)."""
        bid_levels, ask_levels = self._read()
        bids = sorted(bid_levels.items(), reverse=True)[:n]
        asks = sorted(ask_levels.items())[:n]
        return (
            tuple(Level(price=p, size=s) for p, s in bids),
            tuple(Level(price=p, size=s) for p, s in asks),
        )

    def levels(self, side: BookSide) -> dict[Decimal, Decimal]:
        """A copy of one side as `{price: size}`."""
        bids, asks = self._read()
        return dict(bids if side is BookSide.BID else asks)


_HASH_KEYS = (
    "market",
    "asset_id",
    "timestamp",
    "hash",
    "bids",
    "asks",
    "min_order_size",
    "tick_size",
    "neg_risk",
    "last_trade_price",
)


def book_hash(body: Mapping[str, Any]) -> str:
    """The venue's `/book` hash (POLYMARKET.md §5): SHA-1 hex of compact JSON in a fixed key order.

    `body` is the REST response as served (strings untouched, levels in served order); its own
    `hash` is blanked before hashing. Raises KeyError when a hashed key is missing.
    """
    ordered: dict[str, Any] = {}
    for key in _HASH_KEYS:
        if key == "hash":
            ordered[key] = ""
        elif key in ("bids", "asks"):
            ordered[key] = [{"price": lv["price"], "size": lv["size"]} for lv in body[key]]
        else:
            ordered[key] = body[key]
    serial = json.dumps(ordered, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha1(serial.encode()).hexdigest()


def book_hash_matches(body: Mapping[str, Any]) -> bool:
    """Whether a served `/book` body's `hash` is the one its content gives (False if keys are missing)."""
    try:
        return bool(body.get("hash")) and book_hash(body) == body["hash"]
    except (KeyError, TypeError):
        return False
