"""One reusable websocket loop: connect, subscribe, keep alive, read, reconnect with jittered backoff.

A `Channel` supplies what differs per socket (URL, subscribe frames, parser, resync on connect,
follow-up after an event). The runner owns what must be the same everywhere: each frame is stamped
with our receive time and parsed; rejects go to `ops.quarantine` whole and are counted (bad input
never stops the loop); events are de-duplicated by source id and counted when out of order; the
feed monitor turns silence and disconnects into `feed_gaps` rows and `ops.alerts` events.
Keep-alive: a text `PING` every `ping_interval_s` where the venue needs it (market, user); a socket
with no data frame for `stale_after_s` is treated as dead and reconnected, even while the venue
still answers PING (a PONG proves the socket, not the feed); a channel for which silence is normal
(the user channel) sets `data_liveness=False` and counts any frame. RTDS never answers PINGs.

Time: every stamp and threshold is on the process's one `Clock` (connectors/clock.py), in that
clock's seconds, so a sped-up simulator and a live venue are judged alike. Database writes (gap
rows, their alerts) are handed to `writes` (the process's ordered writer) and never awaited: a
slow or absent database must not stop the socket being read. A session that ends for any reason
but cancellation (a connection error, a bug, a full buffer) opens a gap, because whatever the venue
sent meanwhile is lost.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

import structlog
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from connectors.clock import Clock, as_clock
from connectors.parsing import Parsed
from connectors.routing import order_key, rate_key, subject_of, topic_for
from core.backoff import Backoff
from core.dedupe import Deduper, Verdict
from core.enums import Severity
from core.feed_monitor import (
    CaptureRate,
    CompletenessRule,
    FeedMonitor,
    GapClosed,
    GapOpened,
    completeness_for,
)
from core.models import Alert, Event, Quarantined
from core.runtime_alerts import QuarantineAlerts

log = structlog.get_logger(__name__)

CONNECTION_ERRORS = (OSError, ConnectionClosed, InvalidHandshake, InvalidURI, TimeoutError)


class EventSink(Protocol):
    """Where events go (EventProducer in production)."""

    def produce(self, topic_name: str, event: Event) -> None: ...


class GapStore(Protocol):
    """Where gaps and alerts are recorded (sinks.postgres.ops.OpsWriter); called on the writer thread."""

    def open_gap(self, feed: str, started_at: datetime, detail: str) -> bool: ...

    def close_gap(self, feed: str, ended_at: datetime) -> bool: ...

    def open_gap_start(self, feed: str) -> datetime | None: ...

    def record_alert(self, alert: Alert) -> None: ...


class Writes(Protocol):
    """The process's ordered database writer (sinks.postgres.write_queue.WriteQueue): never blocks."""

    def submit(self, what: str, job: Callable[[], object], *, essential: bool = False) -> bool: ...


class Channel(Protocol):
    feed: str
    completeness: CompletenessRule  # how the feed's completeness per window is judged (core.feed_monitor)

    def url(self) -> str: ...

    def subscribe_frames(self) -> Sequence[str]:
        """Frames sent on every (re)connect, before anything is read."""
        ...

    def parse(self, raw: str | bytes, recv_ts: datetime) -> Parsed: ...

    async def on_connected(self, recv_ts: Callable[[], datetime]) -> Sequence[Event]:
        """After subscribing: mark state stale and return resync events (REST snapshots)."""
        ...

    async def after_event(self, event: Event, recv_ts: Callable[[], datetime]) -> Sequence[Event]:
        """After an event was taken: update local state; return resync events if it drifted."""
        ...

    def outgoing(self) -> Sequence[str]:
        """Frames to send now on the open socket (subscriptions to newly followed ids)."""
        ...


@dataclass(frozen=True)
class RunnerConfig:
    """Thresholds in seconds of the runner's clock; `poll_s` (the keep-alive loop's period) and
    `open_timeout_s` (the handshake's) are wall seconds.

    `min_wall_s`: a silence threshold is never shorter than this many wall seconds (the stale one
    never shorter than three times it), whatever the clock's speed: one machine's scheduling and
    socket delays are wall time, and on a simulator at 60x 83 ms of them would read as 5 s of venue
    silence. The production thresholds (5 s, 30 s at speed 1) are always the longer ones."""

    ping_interval_s: float | None = 10.0
    stale_after_s: float = 30.0
    silence_gap: timedelta | None = timedelta(seconds=5)
    backoff: Backoff = field(default_factory=Backoff)
    open_timeout_s: float = 10.0
    poll_s: float = 0.25
    dedupe_capacity: int = 200_000
    min_wall_s: float = 1.0
    data_liveness: bool = True


def event_time(event: Event) -> datetime:
    value = getattr(event, "source_ts", None) or getattr(event, "event_ts", None)
    if not isinstance(value, datetime):
        raise TypeError(f"{type(event).__name__} has no source_ts or event_ts")
    return value


class WsRunner:
    """Runs one channel until cancelled. `clock` gives receive times and paces every threshold (a bare
    `now` callable is a system-paced clock); `random_fn` jitter; `writes` runs the `store` calls."""

    def __init__(
        self,
        channel: Channel,
        sink: EventSink,
        store: GapStore | None,
        config: RunnerConfig,
        clock: Clock | Callable[[], datetime],
        random_fn: Callable[[], float],
        writes: Writes | None = None,
    ) -> None:
        if store is not None and writes is None:
            raise ValueError("a store needs `writes`, the writer its calls are queued on")
        self.channel = channel
        self.feed = channel.feed
        self.sink = sink
        self.store = store
        self.writes = writes
        self.config = config
        self.clock = as_clock(clock)
        self.now = self.clock.now
        self.random_fn = random_fn
        self.dedupe = Deduper(config.dedupe_capacity)
        floor_s = config.min_wall_s / self.clock.wall_s(1.0)  # the wall floor in clock seconds
        self.silence = (
            None if config.silence_gap is None else max(config.silence_gap, timedelta(seconds=floor_s))
        )
        self.stale_after_s = max(config.stale_after_s, 3 * floor_s)
        self.monitor = FeedMonitor(self.feed, self.now(), self.silence)
        self.completeness = completeness_for(channel.completeness)
        self.rates = CaptureRate()
        self.counts: Counter[str] = Counter()
        self.quarantine_alerts = QuarantineAlerts(self.feed)
        self.connected = asyncio.Event()
        self._last_frame = self.now()
        self._why = ""

    def stats(self) -> dict[str, int]:
        """The runner's counters and the channel's (resyncs, drifts: the market channel counts those)."""
        merged = Counter(self.counts)
        merged.update(getattr(self.channel, "counts", {}))
        return dict(merged)

    async def run(self) -> None:
        await self._adopt_open_gap()
        attempt = 0
        while True:
            why = "ended"
            try:
                async with connect(
                    self.channel.url(),
                    open_timeout=self.config.open_timeout_s,  # the handshake is transport: wall seconds
                    max_size=None,
                    ping_interval=None,
                ) as ws:
                    attempt = 0
                    self._why = ""
                    why = await self._session(ws)
            except CONNECTION_ERRORS as exc:
                why = f"{type(exc).__name__}: {str(exc)[:200]}"
            except asyncio.CancelledError:
                self.connected.clear()
                raise
            except BaseException as exc:  # a bug or a fault of ours: the data meanwhile is lost all the same
                self.connected.clear()
                self.counts["crashes"] += 1
                self._gap_opened(
                    self.monitor.disconnected(self.now(), f"crashed: {type(exc).__name__}: {exc}")
                )
                raise
            self.connected.clear()
            self.counts["reconnects"] += 1
            self._gap_opened(self.monitor.disconnected(self.now(), why))
            delay = self.config.backoff.delay(attempt, self.random_fn)
            attempt += 1
            log.warning("ws.reconnect", feed=self.feed, why=why, delay_s=round(delay, 3))
            await self.clock.sleep(delay)

    async def _session(self, ws: ClientConnection) -> str:
        """Subscribe, resync, then read until the socket ends; returns why it ended."""
        for frame in self.channel.subscribe_frames():
            await ws.send(frame)
        await self._take_all(await self.channel.on_connected(self.now))
        self.connected.set()
        self._last_frame = self.now()
        keeper = asyncio.create_task(self._keep_alive(ws))
        try:
            async for raw in ws:
                recv_ts = self.now()  # stamped when the frame is read, before any work on it
                if await self.handle_frame(raw, recv_ts) or not self.config.data_liveness:
                    self._last_frame = recv_ts
        finally:
            keeper.cancel()
        return self._why or "closed by the server"

    async def _keep_alive(self, ws: ClientConnection) -> None:
        """Every `poll_s` (wall): send queued frames, PING when due, judge liveness by frame age, check
        gaps; the periods and thresholds themselves are in clock seconds. A round that woke late (this
        process was stalled, frames may be waiting unread) judges nothing: the next round always does."""
        loop = asyncio.get_running_loop()
        last_ping = self.now()
        woke, skipped = loop.time(), False
        while True:
            await asyncio.sleep(self.config.poll_s)
            stalled = loop.time() - woke > 2 * self.config.poll_s
            woke = loop.time()
            for frame in self.channel.outgoing():
                await ws.send(frame)
            now = self.now()
            interval = self.config.ping_interval_s
            if interval is not None and (now - last_ping).total_seconds() >= interval:
                last_ping = now
                await ws.send("PING")
            if stalled and not skipped:
                skipped = True
                continue
            skipped = False
            if (now - self._last_frame).total_seconds() > self.stale_after_s:
                self._why = (
                    f"no {'data ' if self.config.data_liveness else ''}frame for {self.stale_after_s:g} s"
                )
                await ws.close()
                return
            self._gap_opened(self.monitor.check(now))

    def forget(self, subjects: Iterable[str]) -> None:
        """Drop the per-key state of tokens (or windows) no longer followed, so it does not pile up."""
        for subject in subjects:
            self.dedupe.forget(subject)
            self.rates.forget(subject)

    async def handle_frame(self, raw: str | bytes, recv_ts: datetime) -> bool:
        """Parse one frame, quarantine its rejects, take its events (public for benches and replays);
        False for a control frame (PONG), which proves the socket but not the feed."""
        self.counts["frames"] += 1
        parsed = self.channel.parse(raw, recv_ts)
        for reason in parsed.rejects:
            self._quarantine(raw, reason, recv_ts)
        await self._take_all(parsed.events)
        return not parsed.control

    async def _take_all(self, events: Sequence[Event]) -> None:
        pending = list(events)
        while pending:
            event = pending.pop(0)
            if not self._take(event):
                continue
            pending.extend(await self.channel.after_event(event, self.now))

    def _take(self, event: Event) -> bool:
        """Produce one event unless it is a duplicate; True when it was produced."""
        source_id = getattr(event, "source_id", None)
        verdict = self.dedupe.check(source_id, order_key(event), event_time(event), subject_of(event))
        if verdict is Verdict.DUPLICATE:
            self.counts["duplicates"] += 1
            return False
        if verdict is Verdict.OUT_OF_ORDER:
            self.counts["out_of_order"] += 1
        self.sink.produce(topic_for(event), event)
        self.counts["events"] += 1
        recv_ts = getattr(event, "recv_ts", None)
        at = recv_ts if isinstance(recv_ts, datetime) else self.now()
        self.completeness.tick(event_time(event))  # windows are bounded in the source's time
        key = rate_key(event)
        if key is not None:
            self.rates.tick(key, at)
        closed = self.monitor.tick(at)
        if closed is not None:
            self._gap_closed(closed)
        return True

    def _quarantine(self, raw: str | bytes, reason: str, recv_ts: datetime) -> None:
        """The frame whole on ops.quarantine, counted, logged; alerted once per burst."""
        self.counts["quarantined"] += 1
        data = raw.encode() if isinstance(raw, str) else raw
        self.sink.produce(
            "ops.quarantine", Quarantined(source=self.feed, reason=reason, raw=data, recv_ts=recv_ts)
        )
        log.warning("feed.quarantined", feed=self.feed, reason=reason[:300], total=self.counts["quarantined"])
        alert = self.quarantine_alerts.note(reason, recv_ts)
        if alert is not None:
            self.sink.produce("ops.alerts", alert)
            if self.store is not None:
                self._write("record_alert", partial(self.store.record_alert, alert))

    async def _adopt_open_gap(self) -> None:
        """A gap left open by an earlier run of this feed stays the open gap until data resumes."""
        if self.store is None or self.monitor.open_gap is not None:
            return
        try:
            started = await asyncio.to_thread(self.store.open_gap_start, self.feed)
        except Exception as exc:  # any driver error: the feed goes on without the earlier gap
            self.counts["store_errors"] += 1
            log.error("feed.store_failed", feed=self.feed, call="open_gap_start", error=str(exc)[:300])
            return
        if isinstance(started, datetime):
            self.monitor.open_gap = GapOpened(self.feed, started, self.now(), "left open by an earlier run")

    def _gap_opened(self, gap: GapOpened | None) -> None:
        if gap is None:
            return
        self.completeness.interrupted()
        self.counts["gaps"] += 1
        message = f"feed {gap.feed}: gap since {gap.started_at.isoformat()} ({gap.reason})"
        log.warning(
            "feed.gap_opened", feed=gap.feed, started_at=gap.started_at.isoformat(), reason=gap.reason
        )
        alert = Alert(
            alert_kind="feed.gap",
            severity=Severity.WARNING,
            message=message,
            dedupe_key=f"feed.gap:{gap.feed}:{gap.started_at.isoformat()}",
            event_ts=gap.detected_at,
        )
        self.sink.produce("ops.alerts", alert)
        if self.store is not None:
            self._write("open_gap", partial(self.store.open_gap, gap.feed, gap.started_at, gap.reason))
            self._write("record_alert", partial(self.store.record_alert, alert))

    def _gap_closed(self, gap: GapClosed) -> None:
        seconds = (gap.ended_at - gap.started_at).total_seconds()
        log.info("feed.gap_closed", feed=gap.feed, seconds=round(seconds, 3))
        alert = Alert(
            alert_kind="feed.gap_closed",
            severity=Severity.INFO,
            message=f"feed {gap.feed}: data resumed after {seconds:.3f} s",
            dedupe_key=f"feed.gap:{gap.feed}:{gap.started_at.isoformat()}",
            event_ts=gap.ended_at,
        )
        self.sink.produce("ops.alerts", alert)
        if self.store is not None:
            self._write("close_gap", partial(self.store.close_gap, gap.feed, gap.ended_at))
            self._write("record_alert", partial(self.store.record_alert, alert))

    def _write(self, call: str, job: Callable[[], object]) -> None:
        """Queue a gap write (gap rows are never dropped, even past the queue's bound)."""
        assert self.writes is not None  # checked in __init__ whenever a store is set
        self.writes.submit(f"{self.feed}.{call}", job, essential=True)
