"""Runs the ten runtime assertions once per tick and acts on the result (an adapter; every decision
is in core.assertions and core.breaker).

The executor plugs in a `snapshot` callable returning the tick's `TickSnapshot` (its orders, fills,
positions and balance against the venue's) and calls `tick()` every tick. Each tick: the breaker's
state is read from `breaker_events` (the truth: an operator's reset is a row there), the results and
any breaker change are written in one transaction, published on `ops.assertions`, and a failing
assertion or a trip raises an alert (once per breaker episode, by its dedupe key). `blocked()`
says whether entries must stop (the breaker is open).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog
from psycopg_pool import ConnectionPool

from core.assertions import Check, TickSnapshot, run_all
from core.breaker import Breaker, observe
from core.enums import BreakerState, Severity
from core.models import Alert, AssertionResult, BreakerChange, Event
from sinks.postgres.assertion_table import lock_breaker, read_breaker, record_tick

__all__ = ["AssertionRunner", "alerts_for"]

log = structlog.get_logger(__name__)


def alerts_for(checks: list[Check], breaker: Breaker, opened: BreakerChange | None) -> list[Alert]:
    """A CRITICAL alert per failing assertion, keyed to the breaker episode (`breaker.since`), so an
    assertion failing tick after tick alerts once per episode; and, on the tick that opened the
    breaker, the `breaker.open` alert with the identity of the row sinks.postgres.safety wrote for it
    (so delivering it marks that row delivered)."""
    since = breaker.since
    if breaker.state is not BreakerState.OPEN or since is None:
        return []
    episode = since.isoformat()
    alerts = [
        Alert(
            alert_kind="assertion.failed",
            severity=Severity.CRITICAL,
            message=f"runtime assertion {c.name} failed: {c.evidence}"[:2000],
            dedupe_key=f"{c.name}:{episode}",
            event_ts=since,
        )
        for c in checks
        if not c.passed
    ]
    if opened is not None:
        trip = Alert(
            alert_kind="breaker.open",
            severity=Severity.CRITICAL,
            message=f"circuit breaker opened: {opened.cause}",
            dedupe_key=opened.cause[:200],
            event_ts=opened.event_ts,
        )
        alerts.insert(0, trip)
    return alerts


class AssertionRunner:
    def __init__(
        self,
        snapshot: Callable[[], TickSnapshot],
        pool: ConnectionPool,
        publish: Callable[[str, Event], None],
        alert: Callable[[Alert], object],
    ) -> None:
        self._snapshot, self._pool, self._publish, self._alert = snapshot, pool, publish, alert
        self.breaker = Breaker()

    def tick(self) -> list[Check]:
        snap = self._snapshot()
        checks = run_all(snap)
        with self._pool.connection() as conn, conn.transaction():
            lock_breaker(conn)  # the read and the write as one step against an operator's reset
            held = read_breaker(conn)
            self.breaker, change = observe(held, checks, snap.at)
            record_tick(conn, checks, change, snap.at)
        for c in checks:
            self._safely(self._publish, "ops.assertions", _result(c, snap.at))
        if change is not None:
            log.error("breaker.opened", cause=change.cause)
            self._safely(self._publish, "ops.assertions", change)
        for a in alerts_for(checks, self.breaker, change):
            self._safely(self._alert, a)
        return checks

    def blocked(self) -> bool:
        return self.breaker.state is BreakerState.OPEN

    @staticmethod
    def _safely(call: Callable[..., object], *args: object) -> None:
        try:
            call(*args)
        except Exception as exc:  # the table has it; a lost copy on Kafka or an alert is logged, not fatal
            log.warning("assertions.publish_failed", error=f"{type(exc).__name__}: {str(exc)[:200]}")


def _result(check: Check, at: datetime) -> AssertionResult:
    return AssertionResult(name=check.name, passed=check.passed, detail=check.evidence[:2000], event_ts=at)
