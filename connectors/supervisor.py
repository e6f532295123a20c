"""Supervised asyncio tasks: a task that dies of a bug is restarted with backoff, counted, and
reported (`on_crash`, which the process turns into an alert), never silently; periodic chores paced
on the process's clock."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable

import structlog

from connectors.clock import Clock
from core.backoff import Backoff

log = structlog.get_logger(__name__)


class Supervisor:
    """Restarts crashed jobs; `crashes[name]` counts them; `on_crash(name, error, crashes)` is told each."""

    def __init__(
        self,
        clock: Clock,
        backoff: Backoff,
        on_crash: Callable[[str, str, int], None] = lambda _n, _e, _c: None,
        random_fn: Callable[[], float] = random.random,
    ) -> None:
        self.clock = clock
        self.backoff = backoff
        self.on_crash = on_crash
        self.random_fn = random_fn
        self.crashes: Counter[str] = Counter()

    async def supervise(self, name: str, job: Callable[[], Awaitable[None]]) -> None:
        """Run `job` until it returns; restart it after each crash (cancellation ends it)."""
        attempt = 0
        while True:
            try:
                await job()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.crashes[name] += 1
                log.exception("feeds.task_crashed", task=name, crashes=self.crashes[name])
                try:
                    self.on_crash(name, f"{type(exc).__name__}: {exc}", self.crashes[name])
                except Exception:  # a failing reporter must not stop the restart
                    log.exception("feeds.crash_report_failed", task=name)
                await self.clock.sleep(self.backoff.delay(min(attempt, 10), self.random_fn))
                attempt += 1


async def every(clock: Clock, interval_s: float, job: Callable[[], Awaitable[None]]) -> None:
    """`job()` then a sleep of `interval_s` seconds of `clock`, for ever."""
    while True:
        await job()
        await clock.sleep(interval_s)
