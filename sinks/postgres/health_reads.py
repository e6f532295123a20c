"""What GET /health reads: each feed's latest stats row, the trader lock's holder, the latest clock
offset per source. Reads only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import psycopg

__all__ = ["ClockRow", "FeedRow", "LockRow", "clock_offsets", "feed_rows", "lock_rows"]


@dataclass(frozen=True, slots=True)
class FeedRow:
    feed: str
    measured_at: datetime
    last_tick_age_ms: Decimal | None


@dataclass(frozen=True, slots=True)
class LockRow:
    name: str
    holder: str
    heartbeat_at: datetime


@dataclass(frozen=True, slots=True)
class ClockRow:
    source: str
    measured_at: datetime
    offset_ms: Decimal


def feed_rows(conn: psycopg.Connection) -> list[FeedRow]:
    rows = conn.execute(
        "SELECT DISTINCT ON (feed) feed, measured_at, last_tick_age_ms FROM feed_stats"
        " ORDER BY feed, measured_at DESC, id DESC"
    ).fetchall()
    return [FeedRow(str(f), at, age) for f, at, age in rows]


def lock_rows(conn: psycopg.Connection) -> list[LockRow]:
    rows = conn.execute("SELECT name, holder, heartbeat_at FROM instance_lock ORDER BY name").fetchall()
    return [LockRow(str(n), str(h), at) for n, h, at in rows]


def clock_offsets(conn: psycopg.Connection) -> list[ClockRow]:
    rows = conn.execute(
        "SELECT DISTINCT ON (source) source, measured_at, offset_ms FROM clock_offsets"
        " ORDER BY source, measured_at DESC, id DESC"
    ).fetchall()
    return [ClockRow(str(s), at, off) for s, at, off in rows]
