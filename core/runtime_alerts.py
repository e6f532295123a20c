"""How loud a fault of the running process is: a crashed task, a database write that failed or was
dropped. Pure: the adapters count the faults and hand them here; the alert they get back goes to
`ops.alerts` (and the alerts table when the database takes it)."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.enums import Severity
from core.models import Alert


def task_crash_alert(task: str, error: str, crashes: int, at: datetime) -> Alert:
    """A supervised task died of an exception and is being restarted (CRITICAL: a bug to fix, and data may be lost)."""
    return Alert(
        alert_kind="process.task_crashed",
        severity=Severity.CRITICAL,
        message=f"task {task} crashed ({crashes} so far) and is restarted: {error[:300]}",
        dedupe_key=f"process.task_crashed:{task}:{at.isoformat()}",
        event_ts=at,
    )


def write_alert(what: str, error: str, *, transient: bool, overflow: bool, at: datetime) -> Alert:
    """A database write in trouble: retried (WARNING, nothing lost yet), refused because the writer's
    queue is full (CRITICAL: rows are being lost), or failed for good (CRITICAL: that row is lost)."""
    if overflow:
        kind, severity, text = "db.write_overflow", Severity.CRITICAL, "writes dropped"
    elif transient:
        kind, severity, text = "db.write_retrying", Severity.WARNING, "database unavailable, writes held"
    else:
        kind, severity, text = "db.write_failed", Severity.CRITICAL, "write failed and was dropped"
    return Alert(
        alert_kind=kind,
        severity=severity,
        message=f"{text} ({what}): {error[:300]}",
        dedupe_key=f"{kind}:{what}:{at.isoformat()}",
        event_ts=at,
    )


class QuarantineAlerts:
    """One WARNING alert per burst of quarantined frames of a feed: the first reject alerts at once,
    later ones are summed and alerted at most once per `every` (a broken feed must be seen, not
    flood the operator). `note` takes each reject; it returns the alert to raise, if any."""

    def __init__(self, feed: str, every: timedelta = timedelta(seconds=60)) -> None:
        self.feed = feed
        self.every = every
        self._last: datetime | None = None
        self.held = 0

    def note(self, reason: str, at: datetime) -> Alert | None:
        self.held += 1
        if self._last is not None and at - self._last < self.every:
            return None
        count, self.held, self._last = self.held, 0, at
        return Alert(
            alert_kind="feed.quarantined",
            severity=Severity.WARNING,
            message=f"feed {self.feed}: {count} frame(s) quarantined, latest: {reason[:300]}",
            dedupe_key=f"feed.quarantined:{self.feed}:{at.isoformat()}",
            event_ts=at,
        )
