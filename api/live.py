"""The live view behind GET /api/live: a Kafka consumer thread (`LivePump`) reads the md.* topics the
trading flow reads and applies each event to a `core.live_board.LiveBoard` (the flow's own routing,
window step and strategies); routes read the board under the same lock.

An event that does not decode, or that the board cannot use, is counted and logged, never fatal: the
view is a view, the topics keep everything."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog
from confluent_kafka import Consumer

from api.stream import pump
from core.live_board import InstrumentView, LiveBoard
from core.models import Candle
from core.routing import RouterInput
from core.serde import DecodeError, decode_compact
from core.window_state import candle_open

__all__ = ["LIVE_TOPICS", "LiveFeed", "LivePump", "LiveSnapshot"]

log = structlog.get_logger(__name__)

LIVE_TOPICS = ("md.windows", "md.book", "md.trades", "md.oracle", "md.spot")


@dataclass(frozen=True)
class LiveSnapshot:
    instruments: list[InstrumentView]
    events: int
    malformed: int
    unusable: int
    live_windows: int
    latest_event_ts: datetime | None


class LiveFeed:
    """The board and its counters behind one lock: `apply` from the pump's thread, `snapshot` from
    the API's."""

    def __init__(self, board: LiveBoard) -> None:
        self._board = board
        self._lock = threading.Lock()
        self.malformed = 0
        self.unusable = 0

    @property
    def strategies(self) -> list[str]:
        return [s.name for s in self._board.strategies]

    def apply_raw(self, topic: str, value: bytes) -> None:
        try:
            event = decode_compact(topic, value)
        except DecodeError as exc:
            self._count_malformed(topic, str(exc))
            return
        item: RouterInput = candle_open(event) if isinstance(event, Candle) else event
        with self._lock:
            try:
                problem = self._board.apply(item)
            except Exception as exc:  # a bug or an unexpected shape must not end the view
                self.unusable += 1
                log.warning("api.live.unusable", topic=topic, error=f"{type(exc).__name__}: {str(exc)[:200]}")
                return
        if problem is not None:
            self.unusable += 1
            log.info("api.live.unusable", topic=topic, problem=problem[:200])

    def _count_malformed(self, topic: str, reason: str) -> None:
        with self._lock:
            self.malformed += 1
        log.warning("api.live.malformed", topic=topic, reason=reason[:200])

    def snapshot(self, now: datetime) -> LiveSnapshot:
        with self._lock:
            return LiveSnapshot(
                instruments=self._board.view(now),
                events=self._board.applied,
                malformed=self.malformed,
                unusable=self.unusable,
                live_windows=self._board.window_count,
                latest_event_ts=self._board.latest_ts,
            )


class LivePump:
    """Consumes LIVE_TOPICS from the broker's earliest (books are rebuilt from their snapshots and a
    window's strike from its start print, as the flow does) into the feed."""

    def __init__(self, consumer: Consumer, feed: LiveFeed) -> None:
        self._consumer, self._feed = consumer, feed
        consumer.subscribe(list(LIVE_TOPICS))

    def run(self, should_stop: Callable[[], bool]) -> None:
        pump(self._consumer, should_stop, self._feed.apply_raw, "api.live")
