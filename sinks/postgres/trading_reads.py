"""What the trading flows read from PostgreSQL: the `runtime_controls` table (the truth after a
restart) and the recorded `feed_gaps` (a backtest leaves out windows whose data had a hole).

Reads only; the caller passes the read time (the flow's wall clock live, event time in a replay).
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from core.enums import ControlName
from core.models import ControlChange, ControlsSnapshot

__all__ = ["read_controls", "read_feed_gaps"]

_CONTROLS = "SELECT name, value #>> '{}', updated_by, updated_at FROM runtime_controls ORDER BY name"
_GAPS = (
    "SELECT started_at, ended_at FROM feed_gaps"
    " WHERE started_at < %s AND (ended_at IS NULL OR ended_at > %s) ORDER BY started_at, id"
)


def read_controls(conn: psycopg.Connection, read_at: datetime) -> ControlsSnapshot:
    """Every row of `runtime_controls` as one snapshot stamped `read_at` (lists as JSON text)."""
    rows = conn.execute(_CONTROLS).fetchall()
    changes = tuple(
        ControlChange(name=ControlName(name), value=value, updated_by=by, updated_at=at)
        for name, value, by, at in rows
    )
    return ControlsSnapshot(rows=changes, read_at=read_at)


def read_feed_gaps(
    conn: psycopg.Connection, start: datetime, end: datetime
) -> list[tuple[datetime, datetime | None]]:
    """Gaps of any feed overlapping [start, end): (started_at, ended_at or None while still open)."""
    return [(s, e) for s, e in conn.execute(_GAPS, (end, start)).fetchall()]
