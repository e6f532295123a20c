"""Position monitoring inside `polywindow execute`: `md.book` and `md.windows` in, exits out.

Each token's book is kept with `core.orderbook.OrderBook` from the feed's snapshots and deltas; a
book event for a token that has MONITORING positions (the set is read again every
`refresh_s`) hands the book's bids, the event time and the window's end to `ExitManager.on_book`.
Window ends come from `md.windows`; when the venue resolves a window, its open positions settle
(`ExitManager.on_resolved`: a lost one closes with its P&L net of fees, a won one keeps its payout
due until redeemed), and the window's books and end are forgotten, so memory stays flat. The book consumer reads from the end of `md.book` (what matters is the book from now on) and
commits nothing: after a restart the next snapshot resynchronises the book. `md.windows` is read
from the beginning (by a group of its own per start), so windows announced before the start are known.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal

import structlog
from confluent_kafka import Consumer

from connectors.kafka import decode_message
from core.enums import BookSide, Outcome, WindowPhase
from core.models import BookDelta, BookSnapshot, WindowEvent
from core.orderbook import OrderBook
from execution.exits import ExitManager, ExitResult

__all__ = ["BookMonitor"]

log = structlog.get_logger(__name__)


class BookMonitor:
    def __init__(
        self,
        consumers: Sequence[Consumer],
        exits: ExitManager,
        open_tokens: Callable[[], set[str]],
        refresh_s: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._consumers = consumers
        self._exits = exits
        self._open_tokens = open_tokens
        self._refresh_s = refresh_s
        self._monotonic = monotonic
        self._books: dict[str, OrderBook] = {}
        self._ends: dict[str, datetime] = {}  # token id -> its window's end
        self._windows: dict[str, tuple[str, str]] = {}  # window id -> its tokens
        self._tokens: set[str] = set()
        self._read_at = float("-inf")
        self.exits: list[ExitResult] = []

    def bids(self, token_id: str) -> dict[Decimal, Decimal]:
        """The token's bids as the feed's book has them now (empty until a snapshot arrived)."""
        book = self._books.get(token_id)
        return dict(book.levels(BookSide.BID)) if book is not None and book.synced else {}

    def window_end(self, token_id: str) -> datetime | None:
        return self._ends.get(token_id)

    def poll_once(self, timeout_s: float = 0.0) -> None:
        if self._monotonic() - self._read_at >= self._refresh_s:
            self._tokens = self._open_tokens()
            self._read_at = self._monotonic()
        for consumer in self._consumers:
            for msg in consumer.consume(500, timeout_s):
                if msg.error() is not None:
                    continue
                try:
                    event = decode_message(msg)
                except ValueError:
                    continue  # the feeds quarantine what they cannot parse; nothing to trade on here
                self._on(event)

    def _on(self, event: object) -> None:
        if isinstance(event, WindowEvent):
            self._window(event)
            return
        if not isinstance(event, BookSnapshot | BookDelta):
            return
        token = str(event.token_id)
        book = self._books.setdefault(token, OrderBook(token))
        if isinstance(event, BookSnapshot):
            book.apply_snapshot(event)
        else:
            book.apply_delta(event)
        end = self._ends.get(token)
        if token not in self._tokens or end is None or not book.synced:
            return
        results = self._exits.on_book(token, book.levels(BookSide.BID), event.source_ts, end)
        if results:
            self.exits.extend(results)
            self._tokens = self._open_tokens()
            log.info("execute.exits", token_id=token, exits=[r.reason for r in results])

    def _window(self, event: WindowEvent) -> None:
        tokens = (str(event.up_token_id), str(event.down_token_id))
        if event.phase is WindowPhase.RESOLVED:
            if event.venue_outcome is not None:  # the venue's word settles positions, never ours
                winner = tokens[0] if event.venue_outcome is Outcome.UP else tokens[1]
                self.exits.extend(
                    self._exits.on_resolved(str(event.window_id), tokens, winner, event.source_ts)
                )
            for token in tokens:
                self._books.pop(token, None)
                self._ends.pop(token, None)
            self._windows.pop(str(event.window_id), None)
            return
        self._windows[str(event.window_id)] = tokens
        for token in tokens:
            self._ends[token] = event.end_ts
