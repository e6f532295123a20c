"""What the operations watcher alerts on, decided from rows it read (passed in). Pure: no I/O, no clock.

Each alert carries a dedupe key naming its episode, so the notifier (which sends a kind and key once)
delivers one message per episode however often the watcher finds the same condition:

- `pnl.drawdown` (CRITICAL): the day's realized P&L of one mode fell more than the threshold below
  its peak (the peak starts at 0 each UTC day); key `MODE:DAY`, stamped when it crossed.
- `order.unknown` (CRITICAL): an order in UNKNOWN (a submit without a definite answer); key its id.
- `feed.gap` (WARNING): an open `feed_gaps` row, with the identity the feeds give the alert they
  raise when they open it, so the two are one delivery.
- `health.failing` (CRITICAL) and `db.pool_high` (WARNING): conditions without an identity of
  their own; `Episodes` dates each from the first check that found it to the first that did not,
  whose end is said by `health.recovered` / `db.pool_recovered` (INFO) under the same key (so a
  restarted watcher can tell an episode still open from the alerts table: `Episodes.restore`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from core.enums import Severity
from core.health import PoolUse
from core.models import Alert

__all__ = [
    "ClosedPnl",
    "Episodes",
    "Novelty",
    "OpenGap",
    "UnknownOrder",
    "drawdown",
    "drawdown_alerts",
    "feed_gap_alerts",
    "health_alert",
    "pool_alert",
    "recovered_alert",
    "unknown_order_alerts",
]


@dataclass(frozen=True, slots=True)
class ClosedPnl:
    """One position's realized P&L, at the time it was realized (the position's close)."""

    mode: str
    closed_at: datetime
    realized_pnl_usd: Decimal


@dataclass(frozen=True, slots=True)
class UnknownOrder:
    client_order_id: str
    mode: str
    window_id: str
    created_at: datetime
    detail: str


@dataclass(frozen=True, slots=True)
class OpenGap:
    feed: str
    started_at: datetime
    detail: str


def _falls(rows: Sequence[ClosedPnl]) -> Iterable[tuple[Decimal, datetime]]:
    """The fall below the running peak after each row, in the order realized."""
    total = peak = Decimal(0)
    for row in sorted(rows, key=lambda r: r.closed_at):
        total += row.realized_pnl_usd
        peak = max(peak, total)
        yield peak - total, row.closed_at


def drawdown(rows: Sequence[ClosedPnl]) -> Decimal:
    """The worst fall of cumulative realized P&L below its peak (the peak starts at 0)."""
    return max((fall for fall, _ in _falls(rows)), default=Decimal(0))


def drawdown_alerts(rows: Sequence[ClosedPnl], day: date, limit_usd: Decimal) -> list[Alert]:
    """One alert per mode whose drawdown on `day` (UTC) went past `limit_usd`."""
    by_mode: dict[str, list[ClosedPnl]] = {}
    for row in rows:
        if row.closed_at.date() == day:
            by_mode.setdefault(row.mode, []).append(row)
    alerts = []
    for mode, mode_rows in sorted(by_mode.items()):
        crossed = next((at for fall, at in _falls(mode_rows) if fall > limit_usd), None)
        if crossed is None:
            continue
        alerts.append(
            Alert(
                alert_kind="pnl.drawdown",
                severity=Severity.CRITICAL,
                message=(
                    f"{mode}: drawdown {drawdown(mode_rows)} USD on {day.isoformat()} is past the "
                    f"{limit_usd} USD threshold (realized P&L of closed positions)"
                ),
                dedupe_key=f"{mode}:{day.isoformat()}",
                event_ts=crossed,
            )
        )
    return alerts


def unknown_order_alerts(orders: Sequence[UnknownOrder]) -> list[Alert]:
    return [
        Alert(
            alert_kind="order.unknown",
            severity=Severity.CRITICAL,
            message=(
                f"{o.mode} order {o.client_order_id} ({o.window_id}) is UNKNOWN since "
                f"{o.created_at.isoformat()}: reconciliation must settle it. {o.detail}"
            )[:2000],
            dedupe_key=o.client_order_id,
            event_ts=o.created_at,
        )
        for o in orders
    ]


def feed_gap_alerts(gaps: Sequence[OpenGap]) -> list[Alert]:
    return [
        Alert(
            alert_kind="feed.gap",
            severity=Severity.WARNING,
            message=f"feed {g.feed}: gap since {g.started_at.isoformat()} ({g.detail})"[:2000],
            dedupe_key=f"feed.gap:{g.feed}:{g.started_at.isoformat()}",
            event_ts=g.started_at,
        )
        for g in gaps
    ]


def health_alert(problems: Sequence[str], since: datetime) -> Alert:
    return Alert(
        alert_kind="health.failing",
        severity=Severity.CRITICAL,
        message=("health check failing since " + since.isoformat() + ": " + "; ".join(problems))[:2000],
        dedupe_key=since.isoformat(),
        event_ts=since,
    )


def pool_alert(use: PoolUse, since: datetime) -> Alert:
    return Alert(
        alert_kind="db.pool_high",
        severity=Severity.WARNING,
        message=f"database connections {use.in_use}/{use.max_size} in use since {since.isoformat()}",
        dedupe_key=since.isoformat(),
        event_ts=since,
    )


RECOVERED = {"health.failing": "health.recovered", "db.pool_high": "db.pool_recovered"}


def recovered_alert(kind: str, since: datetime, now: datetime) -> Alert:
    """The end of an episode of `kind` (one of RECOVERED's keys) that began at `since`."""
    return Alert(
        alert_kind=RECOVERED[kind],
        severity=Severity.INFO,
        message=f"{kind} cleared after {(now - since).total_seconds():.0f} s (since {since.isoformat()})",
        dedupe_key=since.isoformat(),
        event_ts=now,
    )


@dataclass
class Episodes:
    """When each named condition began holding; a condition that clears is forgotten, so the next
    time it holds is a new episode."""

    open: dict[str, datetime] = field(default_factory=dict)

    def update(self, name: str, active: bool, now: datetime) -> datetime | None:
        """The start of the condition's current episode, or None when it does not hold."""
        if not active:
            self.open.pop(name, None)
            return None
        return self.open.setdefault(name, now)

    def restore(self, name: str, since: datetime) -> None:
        """An episode a previous watcher began and did not end (read back from the alerts table)."""
        self.open[name] = since


@dataclass
class Novelty:
    """Passes an alert the first check that finds it, not while later checks keep finding it (the
    topic is not flooded with copies); remembers only what the latest check found."""

    seen: set[tuple[str, str]] = field(default_factory=set)

    def new(self, alerts: Sequence[Alert]) -> list[Alert]:
        found = {(a.alert_kind, a.dedupe_key) for a in alerts}
        fresh = [a for a in alerts if (a.alert_kind, a.dedupe_key) not in self.seen]
        self.seen = found
        return fresh
