"""The market channel (POLYMARKET.md §7): books and trades of followed tokens -> md.book, md.trades.

The venue has no sequence numbers and replays nothing after a disconnect (§7.5), so the local book
per token is the integrity check: on every (re)connect all books are marked stale and rebuilt from a
REST `GET /book` snapshot (hash-verified) fetched after subscribing and before any buffered frame is
read, so every delta read afterwards is newer than or as old as the snapshot on the topic; a delta
whose top of book disagrees with the venue's best bid/ask (drift), or that arrives before any
snapshot, triggers another REST resync, at most once per `resync_min_interval_s` per token.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

import httpx
import structlog

from connectors.parsing import Parsed
from connectors.polymarket.parse import parse_market_frame, parse_rest_book
from core.backoff import retry_after_s
from core.feed_monitor import CompletenessRule
from core.models import BookDelta, BookSnapshot, Event, TickSizeChange
from core.orderbook import Applied, OrderBook

log = structlog.get_logger(__name__)

FEED = "polymarket.market"


class MarketChannel:
    """A `ws_runner.Channel` for `/ws/market`; `clob` is an httpx client on the CLOB REST base URL."""

    completeness = CompletenessRule.CONNECTED  # the channel speaks only when a book changes

    def __init__(
        self,
        ws_url: str,
        clob: httpx.AsyncClient,
        tokens: Iterable[str] = (),
        resync_min_interval_s: float = 1.0,
        feed: str = FEED,
    ) -> None:
        self.feed = feed
        self._url = ws_url
        self._clob = clob
        self._min_interval = resync_min_interval_s
        self.books: dict[str, OrderBook] = {t: OrderBook(t) for t in tokens}
        self._last_resync: dict[str, datetime] = {}  # on the runner's clock (its `recv_ts`)
        self._not_before: datetime | None = None  # a Retry-After from the venue
        self._outbox: list[str] = []
        self.counts: Counter[str] = Counter()

    def url(self) -> str:
        return self._url

    def follow(self, tokens: Iterable[str]) -> None:
        """Start following tokens (new windows); the venue sends their books on subscribe."""
        fresh = sorted(set(tokens) - self.books.keys())
        if not fresh:
            return
        self.books.update({t: OrderBook(t) for t in fresh})
        self._outbox.append(json.dumps({"operation": "subscribe", "assets_ids": fresh}))

    def unfollow(self, tokens: Iterable[str]) -> None:
        """Stop following tokens (resolved windows), so state does not grow with every window."""
        gone = sorted(set(tokens) & self.books.keys())
        if not gone:
            return
        for token in gone:
            del self.books[token]
            self._last_resync.pop(token, None)
        self._outbox.append(json.dumps({"operation": "unsubscribe", "assets_ids": gone}))

    def followed(self) -> list[str]:
        """The tokens followed now."""
        return sorted(self.books)

    def subscribe_frames(self) -> Sequence[str]:
        self._outbox.clear()
        first = {"assets_ids": sorted(self.books), "type": "market", "custom_feature_enabled": True}
        return [json.dumps(first)]

    def outgoing(self) -> Sequence[str]:
        frames, self._outbox = self._outbox, []
        return frames

    def parse(self, raw: str | bytes, recv_ts: datetime) -> Parsed:
        return parse_market_frame(raw, recv_ts)

    async def on_connected(self, recv_ts: Callable[[], datetime]) -> Sequence[Event]:
        for book in self.books.values():
            book.invalidate()
        self._last_resync.clear()
        snapshots = [await self._resync(token, recv_ts) for token in sorted(self.books)]
        return [s for s in snapshots if s is not None]

    async def after_event(self, event: Event, recv_ts: Callable[[], datetime]) -> Sequence[Event]:
        book = self.books.get(getattr(event, "token_id", ""))
        if book is None:
            return []
        if isinstance(event, BookSnapshot):
            result = book.apply_snapshot(event)
        elif isinstance(event, BookDelta):
            result = book.apply_delta(event)
        elif isinstance(event, TickSizeChange):
            result = book.apply_tick_size(event)
        else:
            return []
        if result in (Applied.OK, Applied.STALE):
            return []
        self.counts[f"book_{result.value.lower()}"] += 1
        last = self._last_resync.get(book.token_id)
        if last is not None and (recv_ts() - last).total_seconds() < self._min_interval:
            return []
        snapshot = await self._resync(book.token_id, recv_ts)
        return [] if snapshot is None else [snapshot]

    async def _resync(self, token: str, recv_ts: Callable[[], datetime]) -> BookSnapshot | None:
        """A verified REST snapshot of one token, or None (logged, counted; the next drift retries)."""
        now = recv_ts()
        if self._not_before is not None and now < self._not_before:
            self.counts["resync_deferred"] += 1
            return None
        self._last_resync[token] = now
        self.counts["resyncs"] += 1
        try:
            response = await self._clob.get("/book", params={"token_id": token})
            wait = retry_after_s(response.headers.get("Retry-After"), now)
            if response.status_code in (429, 503) and wait is not None:
                self._not_before = now + timedelta(seconds=wait)
                log.warning("market.resync_rate_limited", status=response.status_code, retry_after_s=wait)
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            self.counts["resync_failed"] += 1
            log.warning("market.resync_failed", token=token, error=f"{type(exc).__name__}: {str(exc)[:200]}")
            return None
        snapshot = parse_rest_book(body, recv_ts())
        if isinstance(snapshot, str):
            self.counts["resync_failed"] += 1
            log.warning("market.resync_refused", token=token, reason=snapshot)
            return None
        return snapshot
