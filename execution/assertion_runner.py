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
from datetime import UTC, datetime

import structlog
from psycopg_pool import ConnectionPool

from core.assertions import Check, TickSnapshot, replay_scope, run_all
from core.breaker import Breaker, observe
from core.enums import BreakerState, Severity
from core.models import Alert, AssertionResult, BreakerChange, Event, OrderIntent
from sinks.postgres.assertion_table import lock_breaker, read_breaker, record_tick

__all__ = ["AssertionRunner", "ReplayClock", "alerts_for", "backtest_runner"]

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
    """Live trading (`run_id` None): the breaker is the shared one in `breaker_events`, results and
    changes go to `ops.assertions`, failures alert. A backtest (`run_id` set): results are stored
    with the run id on the replay's event time; its breaker is its own, in memory (a backtest must
    never stop live trading), nothing is published or alerted; `ready()` False (no event yet) skips."""

    def __init__(
        self,
        snapshot: Callable[[], TickSnapshot],
        pool: ConnectionPool,
        publish: Callable[[str, Event], None],
        alert: Callable[[Alert], object],
        *,
        run_id: str | None = None,
        ready: Callable[[], bool] = lambda: True,
    ) -> None:
        self._snapshot, self._pool, self._publish, self._alert = snapshot, pool, publish, alert
        self._run_id, self._ready = run_id, ready
        self.breaker = Breaker()

    def tick(self) -> list[Check]:
        if not self._ready():
            return []
        snap = self._snapshot()
        checks = run_all(snap)
        if self._run_id is not None:
            return self._backtest_tick(checks, snap.at, self._run_id)
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

    def _backtest_tick(self, checks: list[Check], at: datetime, run_id: str) -> list[Check]:
        self.breaker, change = observe(self.breaker, checks, at)
        with self._pool.connection() as conn:
            record_tick(conn, checks, None, at, run_id)
        if change is not None:
            log.error("backtest.breaker_opened", run_id=run_id, cause=change.cause, event_ts=at.isoformat())
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


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ReplayClock:
    """BACKTEST's clock: the event time of the latest intent the executor took (what the order
    manager's clock answered for it), so the assertions run on the replay's time, every `assert_s`
    of it, rather than on the wall clock. `seconds()` is that time for `ExecutorSafety`'s cadence."""

    def __init__(self) -> None:
        self._at: datetime | None = None

    def follow(
        self, clock: Callable[[OrderIntent | None], datetime]
    ) -> Callable[[OrderIntent | None], datetime]:
        """`clock` (the order manager's), noting each time it answers."""

        def noted(intent: OrderIntent | None) -> datetime:
            at = clock(intent)
            if intent is not None and (self._at is None or at > self._at):
                self._at = at
            return at

        return noted

    def started(self) -> bool:
        return self._at is not None

    def now(self) -> datetime:
        """The latest event time; the Unix epoch before the first (nothing is asserted until then)."""
        return self._at if self._at is not None else _EPOCH

    def seconds(self) -> float:
        return 0.0 if self._at is None else self._at.timestamp()


def backtest_runner(
    clock: ReplayClock,
    snapshot: Callable[[], TickSnapshot],
    pool: ConnectionPool,
    run_id: str,
) -> AssertionRunner:
    """The assertions of a BACKTEST run: on `clock`'s event time, scoped to the replay's instruments
    (core.assertions.replay_scope), stored under `run_id`, never published or alerted."""
    return AssertionRunner(
        lambda: replay_scope(snapshot()),
        pool,
        lambda _topic, _event: None,
        lambda _alert: None,
        run_id=run_id,
        ready=clock.started,
    )
