"""The operations watcher: reads PostgreSQL every interval and raises what the operator must hear on
ops.alerts (through `publish`), where `polywindow sink` stores each alert and delivers it once per
kind and dedupe key. The decisions are core's (core.ops_watch, core.health, core.daily_summary);
this is the reading and the loop.

Each check raises: a drawdown past the threshold today, each UNKNOWN order, each open feed gap,
the health check failing (core.health over GET /health's inputs, the database's connection use
standing in for the API's pool), connection use above 80%, and once a UTC day is over, its summary.
With `publish_control`, each registered strategy's kill criterion too (sinks.strategy_kill: the
strategy is paused through `allowed_strategies` and one `strategy.killed` alert raised).
An alert found again by the next check is not raised again (core.ops_watch.Novelty); a restarted
watcher raises what it finds once more and the sink's delivery log keeps it from being sent twice.
`health.failing` and `db.pool_high` episodes still open in the alerts table (no recovery alert
after them) are taken up again by a restarted watcher, so they are not sent twice either.
A check that cannot read the database is logged and retried at the next interval, never fatal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import psycopg
import structlog
from psycopg_pool import ConnectionPool, PoolTimeout

from core.daily_summary import daily_summary, summary_day
from core.health import FeedAge, HealthLimits, PoolUse, evaluate
from core.models import Alert, ControlChange
from core.ops_watch import (
    RECOVERED,
    Episodes,
    Novelty,
    drawdown_alerts,
    feed_gap_alerts,
    health_alert,
    pool_alert,
    recovered_alert,
    unknown_order_alerts,
)
from sinks.postgres.assertion_table import latest_results, read_breaker
from sinks.postgres.health_reads import clock_offsets, feed_rows
from sinks.postgres.watch_reads import (
    closed_pnl,
    connection_use,
    day_rows,
    open_episode,
    open_gaps,
    unknown_orders,
)
from sinks.strategy_kill import check_kills

__all__ = ["OpsWatcher", "WatchLimits"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class WatchLimits:
    drawdown_usd: Decimal
    health: HealthLimits = field(default_factory=HealthLimits)
    max_connections: int | None = None  # None: what the server allows ordinary users


class OpsWatcher:
    def __init__(
        self,
        pool: ConnectionPool,
        publish: Callable[[Alert], None],
        limits: WatchLimits,
        now: Callable[[], datetime],
        publish_control: Callable[[ControlChange], None] | None = None,
    ) -> None:
        self._pool, self._publish, self._limits, self._now = pool, publish, limits, now
        self._publish_control = publish_control  # set: registered strategies' kill criteria are checked
        self._episodes = Episodes()
        self._novelty = Novelty()
        self._summarized: date | None = None
        self._restored = False
        self.checks = 0

    def check(self) -> list[Alert]:
        """One pass over the database; returns the alerts it raised."""
        now = self._now()
        today = now.date()
        with self._pool.connection() as conn:
            if not self._restored:
                for kind in RECOVERED:
                    since = open_episode(conn, kind, RECOVERED[kind])
                    if since is not None:
                        self._episodes.restore(kind, since)
                self._restored = True
            use = connection_use(conn, self._limits.max_connections)
            found = drawdown_alerts(closed_pnl(conn, today), today, self._limits.drawdown_usd)
            found += unknown_order_alerts(unknown_orders(conn))
            found += feed_gap_alerts(open_gaps(conn))
            problems = self._health(conn, now, use)
            due = summary_day(now)
            summary = None if due == self._summarized else daily_summary(due, day_rows(conn, due))
            killed = check_kills(conn, self._publish_control, now) if self._publish_control else []
        ended: list[Alert] = []
        unhealthy_since = self._episode("health.failing", bool(problems), now, ended)
        if unhealthy_since is not None:
            found.append(health_alert(problems, unhealthy_since))
        crowded = use.fraction > self._limits.health.max_pool_use
        crowded_since = self._episode("db.pool_high", crowded, now, ended)
        if crowded_since is not None:
            found.append(pool_alert(use, crowded_since))
        raised = self._novelty.new(found) + ended + killed  # a kill is raised once (strategy_kills)
        if summary is not None:
            raised.append(summary)
        for alert in raised:
            self._publish(alert)
        if summary is not None:
            self._summarized = due
        self.checks += 1
        return raised

    def _episode(self, kind: str, active: bool, now: datetime, ended: list[Alert]) -> datetime | None:
        """The episode's start while `active`; on its first check without, its end goes to `ended`."""
        began = self._episodes.open.get(kind)
        since = self._episodes.update(kind, active, now)
        if since is None and began is not None:
            ended.append(recovered_alert(kind, began, now))
        return since

    def _health(self, conn: psycopg.Connection, now: datetime, use: PoolUse) -> list[str]:
        return evaluate(
            now,
            read_breaker(conn),
            {r.name: r.passed for r in latest_results(conn)},
            [FeedAge(f.feed, f.measured_at, f.last_tick_age_ms) for f in feed_rows(conn)],
            use,
            {c.source: c.offset_ms for c in clock_offsets(conn)},
            self._limits.health,
        )

    def run(
        self, should_stop: Callable[[], bool], wait: Callable[[float], object], interval_s: float
    ) -> None:
        """Check every `interval_s` until `should_stop()`; `wait` sleeps, returning early on a stop."""
        while not should_stop():
            try:
                self.check()
            except (psycopg.Error, PoolTimeout) as exc:
                log.warning("watch.database_unavailable", error=str(exc)[:200])
            wait(interval_s)
