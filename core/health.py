"""Whether the system is healthy, from what GET /health read (passed in). Pure.

Unhealthy: the breaker is open, an assertion's latest result failed, a feed's stats are older than
`feed_stale_after` (the feeds process stopped reporting) or its last tick is older than that, the
database pool is more than `max_pool_use` in use, or a clock is off by more than `max_clock_offset_ms`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from core.breaker import Breaker
from core.enums import BreakerState

__all__ = ["FeedAge", "HealthLimits", "PoolUse", "evaluate"]


@dataclass(frozen=True, slots=True)
class HealthLimits:
    feed_stale_after: timedelta = timedelta(seconds=60)
    max_pool_use: Decimal = Decimal("0.8")
    max_clock_offset_ms: Decimal = Decimal(1000)


@dataclass(frozen=True, slots=True)
class FeedAge:
    feed: str
    measured_at: datetime
    last_tick_age_ms: Decimal | None


@dataclass(frozen=True, slots=True)
class PoolUse:
    in_use: int
    max_size: int

    @property
    def fraction(self) -> Decimal:
        return Decimal(self.in_use) / Decimal(self.max_size) if self.max_size else Decimal(0)


def evaluate(
    now: datetime,
    breaker: Breaker,
    assertions: Mapping[str, bool],
    feeds: Sequence[FeedAge],
    pool: PoolUse,
    clock_offsets_ms: Mapping[str, Decimal],
    limits: HealthLimits = HealthLimits(),
) -> list[str]:
    """The problems found (an empty list: healthy)."""
    problems: list[str] = []
    if breaker.state is BreakerState.OPEN:
        problems.append(f"circuit breaker OPEN: {breaker.cause}: {breaker.evidence}")
    problems.extend(f"assertion {name} failing" for name, ok in sorted(assertions.items()) if not ok)
    stale_ms = Decimal(limits.feed_stale_after.total_seconds() * 1000)
    for feed in feeds:
        report_age = now - feed.measured_at
        if report_age > limits.feed_stale_after:
            problems.append(f"feed {feed.feed} silent: last stats {report_age.total_seconds():.0f} s ago")
        elif feed.last_tick_age_ms is not None and feed.last_tick_age_ms > stale_ms:
            problems.append(f"feed {feed.feed} stale: last tick {feed.last_tick_age_ms} ms ago")
    if pool.fraction > limits.max_pool_use:
        problems.append(f"database pool {pool.in_use}/{pool.max_size} in use")
    for source, offset in sorted(clock_offsets_ms.items()):
        if abs(offset) > limits.max_clock_offset_ms:
            problems.append(f"clock {source} off by {offset} ms")
    return problems
