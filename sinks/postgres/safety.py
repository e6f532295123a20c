"""The circuit breaker and the kill-switch control in PostgreSQL, each change audited.

The breaker's state is its latest `breaker_events` row (no row: CLOSED). Opening it writes the row,
a CRITICAL `breaker.open` alert naming the cause, and an audit entry, in one transaction; only an
operator closes it again (`close_breaker`, which names who). Trading refuses while it is OPEN.
`set_kill_switch` writes the `kill_switch` runtime control (the table is the truth; the flows and
the executor read it) and audits the change. Times are passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from core.enums import BreakerState, KillSwitch

__all__ = ["Breaker", "close_breaker", "open_breaker", "read_breaker", "set_kill_switch"]

_EVENT = "INSERT INTO breaker_events (state, cause, event_ts) VALUES (%s, %s, %s)"
_ALERT = (
    "INSERT INTO alerts (kind, severity, message, dedupe_key, event_ts) VALUES ('breaker.open', 'CRITICAL', %s, %s, %s)"
    " ON CONFLICT (kind, dedupe_key, event_ts) DO NOTHING"
)
_AUDIT = "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (%s, %s, %s, %s, %s)"
# The latest act wins, whatever clock stamped it: a reset stamped by the API's wall clock must close a
# trip stamped by a simulator clock running ahead at --speed 60.
_LATEST = "SELECT state, cause, event_ts FROM breaker_events ORDER BY id DESC LIMIT 1"
# A control row is stamped by the database's clock, as the API's writes are by the wall clock: the
# flow keeps whichever value has the newer stamp, and a PAUSE stamped by an executor following a
# simulator at --speed 5 (minutes ahead) outranked every RUN the operator set after it.
_SWITCH = (
    "UPDATE runtime_controls SET value = to_jsonb(%s::text), updated_at = now(), updated_by = %s"
    " WHERE name = 'kill_switch'"
)


@dataclass(frozen=True, slots=True)
class Breaker:
    state: BreakerState
    cause: str = ""
    since: datetime | None = None

    @property
    def open(self) -> bool:
        return self.state is BreakerState.OPEN


def open_breaker(conn: psycopg.Connection, cause: str, at: datetime, actor: str) -> None:
    """Open the breaker for `cause`, alert and audit it (one transaction)."""
    with conn.transaction():
        conn.execute(_EVENT, (BreakerState.OPEN.value, cause, at))
        conn.execute(_ALERT, (f"circuit breaker opened: {cause}", cause[:200], at))
        conn.execute(_AUDIT, (at, actor, "breaker.open", "breaker", Jsonb({"cause": cause})))


def close_breaker(conn: psycopg.Connection, operator: str, reason: str, at: datetime) -> None:
    """The operator's act that lets trading resume."""
    with conn.transaction():
        conn.execute(_EVENT, (BreakerState.CLOSED.value, f"{operator}: {reason}", at))
        conn.execute(_AUDIT, (at, operator, "breaker.close", "breaker", Jsonb({"reason": reason})))


def read_breaker(conn: psycopg.Connection) -> Breaker:
    row = conn.execute(_LATEST).fetchone()
    if row is None:
        return Breaker(BreakerState.CLOSED)
    return Breaker(BreakerState(row[0]), row[1], row[2])


def set_kill_switch(conn: psycopg.Connection, level: KillSwitch, actor: str, at: datetime) -> None:
    with conn.transaction():
        conn.execute(_SWITCH, (level.value, actor))
        conn.execute(_AUDIT, (at, actor, "kill_switch.set", "kill_switch", Jsonb({"level": level.value})))
