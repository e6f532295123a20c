"""What the operations watcher reads: realized P&L, UNKNOWN orders, open feed gaps, the database's
connection use and one UTC day's rows for the summary. Reads only; BACKTEST rows are never read
(a backtest is not the operator's money). Times come back in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime

import psycopg

from core.daily_summary import DayRows, Gap, day_bounds
from core.health import PoolUse
from core.ops_watch import ClosedPnl, OpenGap, UnknownOrder

__all__ = ["closed_pnl", "connection_use", "day_rows", "open_episode", "open_gaps", "unknown_orders"]

_PNL = (
    "SELECT mode, coalesce(closed_at, updated_at), realized_pnl_usd FROM positions"
    " WHERE mode <> 'BACKTEST' AND realized_pnl_usd <> 0"
    " AND coalesce(closed_at, updated_at) >= %s AND coalesce(closed_at, updated_at) < %s"
)


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


def closed_pnl(conn: psycopg.Connection, day: date) -> list[ClosedPnl]:
    """Realized P&L on `day`: each position's, at its close (or its latest change while it is open)."""
    rows = conn.execute(_PNL, day_bounds(day)).fetchall()
    return [ClosedPnl(str(m), _utc(at), pnl) for m, at, pnl in rows]


def unknown_orders(conn: psycopg.Connection) -> list[UnknownOrder]:
    rows = conn.execute(
        "SELECT client_order_id, mode, window_id, created_at, detail FROM orders"
        " WHERE status = 'UNKNOWN' AND mode <> 'BACKTEST' ORDER BY created_at"
    ).fetchall()
    return [UnknownOrder(str(c), str(m), str(w), _utc(at), str(d)) for c, m, w, at, d in rows]


def open_gaps(conn: psycopg.Connection) -> list[OpenGap]:
    rows = conn.execute(
        "SELECT feed, started_at, detail FROM feed_gaps WHERE ended_at IS NULL ORDER BY started_at"
    ).fetchall()
    return [OpenGap(str(f), _utc(at), str(d)) for f, at, d in rows]


def connection_use(conn: psycopg.Connection, max_connections: int | None) -> PoolUse:
    """Connections open to our database against what the server allows ordinary users
    (`max_connections` less the superusers' reserve), or against `max_connections` when given."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()),"
        " current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int"
    ).fetchone()
    assert row is not None
    in_use, allowed = int(row[0]), int(row[1])
    return PoolUse(in_use, max_connections or allowed)


def day_rows(conn: psycopg.Connection, day: date) -> DayRows:
    start, end = day_bounds(day)
    trades = conn.execute(
        "SELECT mode, count(*) FROM fills WHERE mode <> 'BACKTEST' AND status <> 'FAILED'"
        " AND source_ts >= %s AND source_ts < %s GROUP BY mode",
        (start, end),
    ).fetchall()
    checks = conn.execute(
        "SELECT count(*) FILTER (WHERE passed), count(*) FROM assertion_results"
        " WHERE run_id IS NULL AND event_ts >= %s AND event_ts < %s",  # a backtest's are its own
        (start, end),
    ).fetchone()
    gaps = conn.execute(
        "SELECT started_at, ended_at FROM feed_gaps WHERE started_at < %s AND (ended_at IS NULL OR ended_at > %s)",
        (end, start),
    ).fetchall()
    passed, total = (0, 0) if checks is None else (int(checks[0]), int(checks[1]))
    return DayRows(
        trades={str(m): int(n) for m, n in trades},
        pnl=closed_pnl(conn, day),
        assertions_passed=passed,
        assertions_total=total,
        gaps=[Gap(_utc(s), None if e is None else _utc(e)) for s, e in gaps],
    )


def open_episode(conn: psycopg.Connection, kind: str, ended_kind: str) -> datetime | None:
    """When the episode of `kind` the alerts table shows open began: its latest alert, unless the
    alert that ended it (`ended_kind`, same key) came after. None when there is none open."""
    row = conn.execute(
        "SELECT kind, event_ts FROM alerts WHERE kind IN (%s, %s) ORDER BY event_ts DESC, id DESC LIMIT 1",
        (kind, ended_kind),
    ).fetchone()
    if row is None or row[0] != kind:
        return None
    return _utc(row[1])
