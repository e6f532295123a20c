"""The one clock a process takes "now" from, and sleeps on.

Every decision that involves time (receive stamps, gap and stale thresholds, keep-alive, backoff,
discovery polls, chores) reads this clock, so a process follows one time line:
- `SystemClock`: the machine's UTC clock (LIVE; the venue's `/time` is compared with it and the
  offset stored by the feeds' clock chore);
- `SimulatorClock`: the simulator's scenario time at whatever speed it runs (tests, campaigns),
  anchored on `GET /_sim/clock` and re-anchored periodically (`follow`). Seconds passed to
  `sleep` are seconds on that clock: at 60x, `sleep(60)` takes one wall second.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

import httpx
import structlog

from core.timestamps import from_ms

log = structlog.get_logger(__name__)


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """UTC, timezone-aware."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Sleep `seconds` of this clock's time."""
        ...

    def wall_s(self, seconds: float) -> float:
        """How many wall seconds `seconds` of this clock's time take."""
        ...


def utc_now() -> datetime:
    return datetime.now(UTC)


class SystemClock:
    """The machine's clock (`now` may be replaced, e.g. by a test's fixed time)."""

    def __init__(self, now: Callable[[], datetime] = utc_now) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def wall_s(self, seconds: float) -> float:
        return seconds


def as_clock(clock: Clock | Callable[[], datetime]) -> Clock:
    """A Clock as is; a bare `now` callable as a system-paced clock reading that callable."""
    return clock if isinstance(clock, Clock) else SystemClock(clock)


class ClockUnavailable(Exception):
    """The simulator's clock could not be read at start-up (the message names the URL)."""


@dataclass(frozen=True, slots=True)
class _Anchor:
    scenario: datetime
    mono: float
    speed: float
    rtt: float  # wall seconds; the anchor is uncertain by speed x rtt / 2 scenario seconds


class SimulatorClock:
    """Scenario time of the simulator at `base_url`: anchor + speed x monotonic time since then.

    `anchor()` must have run once before `now()` (`start()` does it); `follow()` re-anchors every
    `every_wall_s` wall seconds so a speed change or drift is picked up. A sample is placed half-way
    through its round trip, so at 60x a 100 ms round trip is 3 s of doubt: a new sample replaces the
    anchor only when its round trip is not much longer (or the speed changed). `now()` never goes
    back: a re-anchor that lands slightly earlier holds the time until it catches up."""

    def __init__(
        self,
        base_url: str,
        every_wall_s: float = 2.0,
        mono: Callable[[], float] = time.monotonic,
        timeout_s: float = 5.0,
    ) -> None:
        self._url = base_url.rstrip("/") + "/_sim/clock"
        self._every = every_wall_s
        self._mono = mono
        self._timeout = timeout_s
        self._anchor: _Anchor | None = None
        self._last = datetime.min.replace(tzinfo=UTC)
        self._lock = threading.Lock()

    @property
    def speed(self) -> float:
        return self._require().speed

    def start(self, samples: int = 5) -> SimulatorClock:
        """Anchor on the best of `samples` reads; raises ClockUnavailable when the simulator does not
        answer as expected."""
        try:
            for _ in range(samples):
                self.anchor()
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise ClockUnavailable(f"cannot follow the simulator's clock at {self._url}: {exc}") from exc
        return self

    def anchor(self) -> None:
        """Read the simulator's clock once; the sample is placed half-way through the round trip."""
        sent = self._mono()
        response = httpx.get(self._url, timeout=self._timeout)
        received = self._mono()
        response.raise_for_status()
        body = response.json()
        now_ms, speed = body["now_ms"], float(body["speed"])
        if not isinstance(now_ms, int) or speed < 0:
            raise ValueError(f"unexpected /_sim/clock answer: {body!r}")
        fresh = _Anchor(from_ms(now_ms), (sent + received) / 2, speed, received - sent)
        held = self._anchor
        if held is None or fresh.speed != held.speed or fresh.rtt <= 1.5 * held.rtt + 0.002:
            self._anchor = fresh

    async def follow(self) -> None:
        """Re-anchor every `every_wall_s` until cancelled; a failed read keeps the old anchor."""
        while True:
            await asyncio.sleep(self._every)
            try:
                await asyncio.to_thread(self.anchor)
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                log.warning("clock.anchor_failed", url=self._url, error=f"{type(exc).__name__}: {exc}")

    def now(self) -> datetime:
        a = self._require()
        at = a.scenario + timedelta(seconds=(self._mono() - a.mono) * a.speed)
        with self._lock:
            if at < self._last:
                return self._last
            self._last = at
            return at

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(self.wall_s(seconds))

    def wall_s(self, seconds: float) -> float:
        """At speed 0 (a scenario stepped by hand) waits are paced in wall seconds."""
        speed = self._require().speed
        return max(0.0, seconds) / (speed if speed > 0 else 1.0)

    def _require(self) -> _Anchor:
        if self._anchor is None:
            raise RuntimeError("SimulatorClock used before anchor(): call start() first")
        return self._anchor
