"""Feed integrity: last-tick age, gaps, data completeness per window, capture rate per key.

Completeness is defined per feed (`CompletenessRule`), so that a healthy feed reads 100%: RTDS
prints every second, so a second without a print is a missing second (PRINTS); the market channel
speaks only when a book changes, so its seconds count when the channel was connected, subscribed
and not in a gap (CONNECTED), judged on the data's own clock.

A gap is a period in which we may have missed data. It opens when a feed has been silent for more
than its threshold (start = the last tick's time, not the moment we noticed) or when its connection
drops (a dropped socket loses whatever the venue sent meanwhile, and the venue replays nothing);
it closes on the first tick after it (end = that tick's time). Every time is passed in (our receive
clock for ticks, the same clock for `now`), so the decisions replay exactly. Decisions are values
the adapter acts on (write a `feed_gaps` row, raise an alert).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

_SECOND = timedelta(seconds=1)


@dataclass(frozen=True)
class GapOpened:
    feed: str
    started_at: datetime
    detected_at: datetime
    reason: str


@dataclass(frozen=True)
class GapClosed:
    feed: str
    started_at: datetime
    ended_at: datetime


class FeedMonitor:
    """One feed's last tick and open gap. `silence` None: silence alone never opens a gap (a quiet
    user channel is normal); disconnects still do. Before any tick, `started_at` stands in for it."""

    def __init__(self, feed: str, started_at: datetime, silence: timedelta | None) -> None:
        if silence is not None and silence <= timedelta(0):
            raise ValueError(f"silence threshold must be positive, got {silence}")
        self.feed = feed
        self.silence = silence
        self.last_tick: datetime = started_at
        self.ticks = 0
        self.open_gap: GapOpened | None = None

    def tick(self, at: datetime) -> GapClosed | None:
        """A data event arrived at `at`; closes the open gap, if any, at `at`."""
        self.ticks += 1
        if at > self.last_tick:
            self.last_tick = at
        gap, self.open_gap = self.open_gap, None
        if gap is None:
            return None
        return GapClosed(self.feed, gap.started_at, max(at, gap.started_at))

    def check(self, now: datetime) -> GapOpened | None:
        """Open a gap when the feed has been silent for more than the threshold."""
        if self.open_gap is not None or self.silence is None or now - self.last_tick <= self.silence:
            return None
        return self._open(now, f"no tick for more than {self.silence.total_seconds():g} s")

    def disconnected(self, now: datetime, why: str) -> GapOpened | None:
        """The connection dropped at `now`: what follows the last tick is unknown until data resumes."""
        if self.open_gap is not None:
            return None
        return self._open(now, f"disconnected: {why}")

    def age(self, now: datetime) -> timedelta:
        return now - self.last_tick

    def _open(self, now: datetime, reason: str) -> GapOpened:
        self.open_gap = GapOpened(self.feed, self.last_tick, now, reason)
        return self.open_gap


def _second_of(at: datetime) -> int:
    return int(at.timestamp() // 1)


class CompletenessRule(StrEnum):
    PRINTS = "prints"  # seconds with at least one print (RTDS: the oracle prints every second)
    CONNECTED = "connected"  # seconds connected, subscribed and not in a gap (the market channel)


class CompletenessMeasure(Protocol):
    """What a feed runner feeds: events by event time, and interruptions (disconnect, gap opened)."""

    newest: datetime | None

    def tick(self, at: datetime) -> None: ...

    def interrupted(self) -> None: ...

    def percent(self, start: datetime, end: datetime, now: datetime | None = None) -> Decimal: ...


def _percent(covered: Decimal | int, total: Decimal | int) -> Decimal:
    return (Decimal(covered) * 100 / Decimal(total)).quantize(Decimal("0.01"))


def _window_seconds(start: datetime, end: datetime) -> tuple[int, int]:
    first, last = _second_of(start), _second_of(end)
    if last <= first:
        raise ValueError(f"empty window {start.isoformat()} .. {end.isoformat()}")
    return first, last


class Completeness:
    """Which whole seconds had at least one tick, for the last `keep` of them (bounded memory).

    Ticks are placed by event time (the source's timestamp), the clock window boundaries are in;
    `newest` is the latest event time seen, the data's own "now"."""

    def __init__(self, keep: timedelta = timedelta(hours=2)) -> None:
        self._keep_s = int(keep.total_seconds())
        self._seconds: set[int] = set()
        self._order: deque[int] = deque()
        self._newest = 0
        self.newest: datetime | None = None

    def tick(self, at: datetime) -> None:
        if self.newest is None or at > self.newest:
            self.newest = at
        second = _second_of(at)
        if second in self._seconds:
            return
        self._seconds.add(second)
        self._order.append(second)
        self._newest = max(self._newest, second)
        horizon = self._newest - self._keep_s
        while self._order and self._order[0] < horizon:
            self._seconds.discard(self._order.popleft())

    def interrupted(self) -> None:
        """A missing second shows by itself under this rule."""

    def percent(self, start: datetime, end: datetime, now: datetime | None = None) -> Decimal:
        """Seconds in [start, end) with a tick / seconds in the window, as a percentage (2 places)."""
        first, last = _window_seconds(start, end)
        covered = sum(1 for s in range(first, last) if s in self._seconds)
        return _percent(covered, last - first)


class ConnectedCompleteness:
    """Time covered by unbroken sessions, for the last `keep` of event time (bounded memory).

    A session runs from the first event after a (re)connect (the REST resync taken after
    subscribing) to the latest event before an interruption (a disconnect, or a gap opened: the gap
    starts at the last event, so nothing after it counts). Consecutive events of one session cover
    the time between them however far apart: a quiet book is not missing data. The live session
    covers up to `now` when one is given (connected and no gap so far)."""

    def __init__(self, keep: timedelta = timedelta(hours=2)) -> None:
        self._keep = keep
        self._done: deque[tuple[datetime, datetime]] = deque()
        self._live: tuple[datetime, datetime] | None = None
        self.newest: datetime | None = None

    @property
    def sessions(self) -> int:
        return len(self._done) + (self._live is not None)

    def tick(self, at: datetime) -> None:
        if self.newest is None or at > self.newest:
            self.newest = at
        first, last = self._live or (at, at)  # a late event never moves the start back
        self._live = (first, max(last, at))

    def interrupted(self) -> None:
        if self._live is None:
            return
        self._done.append(self._live)
        self._live = None
        horizon = (self.newest or self._done[-1][1]) - self._keep
        while self._done and self._done[0][1] < horizon:
            self._done.popleft()

    def percent(self, start: datetime, end: datetime, now: datetime | None = None) -> Decimal:
        """Seconds of [start, end) inside a session / seconds in the window (2 places)."""
        first, last = _window_seconds(start, end)
        lo, hi = datetime.fromtimestamp(first, start.tzinfo), datetime.fromtimestamp(last, start.tzinfo)
        spans = list(self._done)
        if self._live is not None:
            a, b = self._live
            spans.append((a, b if now is None else max(b, now)))
        covered, reached = timedelta(0), lo
        for a, b in sorted(spans):
            a, b = max(a, reached), min(b, hi)
            if b > a:
                covered += b - a
                reached = b
        return _percent(Decimal(covered // timedelta(microseconds=1)), (last - first) * 1_000_000)


def completeness_for(rule: CompletenessRule) -> CompletenessMeasure:
    """The measure a feed's rule names (PRINTS: `Completeness`, CONNECTED: `ConnectedCompleteness`)."""
    if rule is CompletenessRule.CONNECTED:
        return ConnectedCompleteness()
    return Completeness()


def completeness_due(
    ends: Iterable[tuple[str, datetime]], wall_now: datetime, event_now: datetime | None
) -> list[str]:
    """Ids of windows whose end has passed, on the data's clock or on ours, whichever is later.

    The data's clock (newest event time) is the right one for a replay or a sped-up venue, where it
    runs ahead of ours; ours still ends a window whose feeds went silent."""
    now = wall_now if event_now is None else max(wall_now, event_now)
    return [window_id for window_id, end in ends if end <= now]


class CaptureRate:
    """Ticks per second per key (a token) over a sliding span of event time.

    A key with no tick left in the span is dropped whenever `rates` is asked, and `forget` drops one
    at once, so keys of unfollowed tokens do not pile up."""

    def __init__(self, span: timedelta = timedelta(seconds=60)) -> None:
        if span <= timedelta(0):
            raise ValueError(f"span must be positive, got {span}")
        self.span = span
        self._ticks: dict[str, deque[datetime]] = {}

    def tick(self, key: str, at: datetime) -> None:
        ticks = self._ticks.setdefault(key, deque())
        ticks.append(at)
        self._trim(ticks, at)

    def rate(self, key: str, now: datetime) -> float:
        ticks = self._ticks.get(key)
        if not ticks:
            return 0.0
        self._trim(ticks, now)
        return len(ticks) / (self.span / _SECOND)

    def rates(self, now: datetime, keys: Iterable[str]) -> dict[str, float]:
        """The rate of each of `keys` (the followed ones; 0.0 for one that never ticked)."""
        for key, ticks in list(self._ticks.items()):
            self._trim(ticks, now)
            if not ticks:
                del self._ticks[key]
        return {key: self.rate(key, now) for key in keys}

    def forget(self, key: str) -> None:
        self._ticks.pop(key, None)

    @property
    def keys(self) -> int:
        """How many keys have ticks kept."""
        return len(self._ticks)

    def _trim(self, ticks: deque[datetime], now: datetime) -> None:
        while ticks and now - ticks[0] > self.span:
            ticks.popleft()
