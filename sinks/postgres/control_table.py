"""Writes of the control service: a runtime control and the audit row that says who did it and why,
in one transaction (a change is never unaudited). The breaker's reset is sinks.postgres.safety's.

`audit_log` is append-only (migration 0001 refuses UPDATE, DELETE and TRUNCATE).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import psycopg
from psycopg.types.json import Jsonb

from core.control_values import CanonicalControl
from core.models import ControlChange

__all__ = ["audit", "write_control"]

_UPSERT_CONTROL = "UPDATE runtime_controls SET value_type = %s, value = %s, updated_at = %s, updated_by = %s WHERE name = %s"


def audit(
    conn: psycopg.Connection, actor: str, action: str, subject: str, detail: Mapping[str, object]
) -> None:
    conn.execute(
        "INSERT INTO audit_log (actor, action, subject, detail) VALUES (%s, %s, %s, %s)",
        (actor, action, subject, Jsonb(json.loads(json.dumps(detail, default=str)))),
    )


def write_control(conn: psycopg.Connection, control: CanonicalControl, change: ControlChange) -> str | None:
    """Set the control's row and audit it (one transaction); returns the value it replaced."""
    with conn.transaction():
        row = conn.execute(
            "SELECT value #>> '{}' FROM runtime_controls WHERE name = %s FOR UPDATE", (change.name.value,)
        ).fetchone()
        conn.execute(
            _UPSERT_CONTROL,
            (
                control.value_type,
                Jsonb(control.json_value),
                change.updated_at,
                change.updated_by,
                change.name.value,
            ),
        )
        before = None if row is None else str(row[0])
        audit(
            conn,
            change.updated_by,
            "control.set",
            change.name.value,
            {"from": before, "to": change.value, "why": change.reason},
        )
    return before
