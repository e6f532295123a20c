"""Assertion results and breaker events in PostgreSQL.

`breaker_events` is the breaker's truth across processes: its latest row is the state (an
operator's reset through the API is a CLOSED row). A tick's results and the breaker change they
caused are written in one transaction. The `cause` of an OPEN row is `assertion: evidence`. Rows are read and written through
sinks.postgres.safety, as reconciliation and the kill switch do, so every writer agrees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg

from core.assertions import Check
from core.breaker import Breaker
from core.enums import BreakerState
from core.models import BreakerChange
from sinks.postgres import safety

ACTOR = "assertions"  # who opens the breaker for a failing assertion, in the audit log

__all__ = ["LatestResult", "latest_results", "lock_breaker", "read_breaker", "record_tick", "run_results"]


def lock_breaker(conn: psycopg.Connection) -> None:
    """Serialise breaker changes until the end of the caller's transaction."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('polywindow.breaker_events'))")


def read_breaker(conn: psycopg.Connection) -> Breaker:
    """The breaker as its latest event says (CLOSED when there never was one), read as every
    other reader reads it (sinks.postgres.safety)."""
    row = safety.read_breaker(conn)
    if row.since is None:
        return Breaker()
    if row.state is BreakerState.CLOSED:
        return Breaker(BreakerState.CLOSED, "", "", row.since)
    name, _, evidence = row.cause.partition(": ")
    return Breaker(row.state, name, evidence, row.since)


def record_tick(
    conn: psycopg.Connection,
    checks: Sequence[Check],
    change: BreakerChange | None,
    at: datetime,
    run_id: str | None = None,
) -> None:
    """The tick's results and, when they opened the breaker, its OPEN event with the `breaker.open`
    alert row and the audit entry (sinks.postgres.safety.open_breaker), in one transaction. A
    backtest's results carry its `run_id` (and a backtest never passes a breaker change)."""
    with conn.transaction():
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO assertion_results (name, passed, detail, event_ts, run_id) VALUES (%s, %s, %s, %s, %s)",
                [(c.name, c.passed, c.evidence[:2000], at, run_id) for c in checks],
            )
        if change is not None:
            safety.open_breaker(conn, change.cause, change.event_ts, ACTOR)


@dataclass(frozen=True, slots=True)
class LatestResult:
    name: str
    passed: bool
    detail: str
    event_ts: datetime


def latest_results(conn: psycopg.Connection) -> list[LatestResult]:
    """Each assertion's most recent result in live trading (a backtest's are read by `run_results`)."""
    rows = conn.execute(
        "SELECT DISTINCT ON (name) name, passed, detail, event_ts FROM assertion_results WHERE run_id IS NULL"
        " ORDER BY name, event_ts DESC, id DESC"
    ).fetchall()
    return [LatestResult(str(n), bool(p), str(d), at) for n, p, d, at in rows]


def run_results(conn: psycopg.Connection, run_id: str) -> list[LatestResult]:
    """Every result a backtest run stored, in event-time order."""
    rows = conn.execute(
        "SELECT name, passed, detail, event_ts FROM assertion_results WHERE run_id = %s ORDER BY event_ts, id",
        (run_id,),
    ).fetchall()
    return [LatestResult(str(n), bool(p), str(d), at) for n, p, d, at in rows]
