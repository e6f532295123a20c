"""Assertion results and breaker events in PostgreSQL.

`breaker_events` is the breaker's truth across processes: its latest row is the state (an
operator's reset through the API is a CLOSED row). A tick's results and the breaker change they
caused are written in one transaction. The `cause` of an OPEN row is `assertion: evidence`.
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

__all__ = ["LatestResult", "latest_results", "lock_breaker", "read_breaker", "record_tick"]


def lock_breaker(conn: psycopg.Connection) -> None:
    """Serialise breaker changes until the end of the caller's transaction."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('polywindow.breaker_events'))")


def read_breaker(conn: psycopg.Connection) -> Breaker:
    """The breaker as its latest event says (CLOSED when there never was one)."""
    row = conn.execute(
        "SELECT state, cause, event_ts FROM breaker_events ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return Breaker()
    state, cause, at = BreakerState(row[0]), str(row[1]), row[2]
    if state is BreakerState.CLOSED:
        return Breaker(BreakerState.CLOSED, "", "", at)
    name, _, evidence = cause.partition(": ")
    return Breaker(state, name, evidence, at)


def record_tick(
    conn: psycopg.Connection, checks: Sequence[Check], change: BreakerChange | None, at: datetime
) -> None:
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO assertion_results (name, passed, detail, event_ts) VALUES (%s, %s, %s, %s)",
            [(c.name, c.passed, c.evidence[:2000], at) for c in checks],
        )
        if change is not None:
            cur.execute(
                "INSERT INTO breaker_events (state, cause, event_ts) VALUES (%s, %s, %s)",
                (change.state.value, change.cause, change.event_ts),
            )


@dataclass(frozen=True, slots=True)
class LatestResult:
    name: str
    passed: bool
    detail: str
    event_ts: datetime


def latest_results(conn: psycopg.Connection) -> list[LatestResult]:
    """Each assertion's most recent result."""
    rows = conn.execute(
        "SELECT DISTINCT ON (name) name, passed, detail, event_ts FROM assertion_results"
        " ORDER BY name, event_ts DESC, id DESC"
    ).fetchall()
    return [LatestResult(str(n), bool(p), str(d), at) for n, p, d, at in rows]
