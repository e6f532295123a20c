"""The strategy registry's rows (migration 0016): versions registered with their expectation, the
settled results the kill criterion is judged on, and the kills recorded once per version and mode.
A registration is audited in the same transaction. Times come back in UTC."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from core.strategy_review import Expectation, Registration, SettledResult
from sinks.postgres.control_table import audit

__all__ = [
    "PositionRow",
    "StoredVersion",
    "latest_version",
    "latest_versions",
    "record_kill",
    "register",
    "settled_results",
    "strategy_positions",
    "strategy_versions",
]

_COLUMNS = "strategy, version, params, risk, instruments, expectation, registered_by, registered_at"


@dataclass(frozen=True, slots=True)
class StoredVersion:
    strategy: str
    version: int
    params: dict[str, Any]
    risk: dict[str, Any]
    instruments: tuple[str, ...]
    expectation: Expectation | None
    registered_by: str
    registered_at: datetime


def _stored(row: tuple[Any, ...]) -> StoredVersion:
    name, version, params, risk, instruments, expectation, by, at = row
    return StoredVersion(
        str(name),
        int(version),
        dict(params),
        dict(risk),
        tuple(instruments),
        None if expectation is None else Expectation.model_validate(expectation),
        str(by),
        at.astimezone(UTC),
    )


def register(conn: psycopg.Connection, registration: Registration, who: str, at: datetime) -> int:
    """Store `registration` as the strategy's next version (audited); returns the version."""
    expectation = registration.expectation
    with conn.transaction():
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('strategy_versions/' || %s))", (registration.strategy,)
        )
        row = conn.execute(
            "SELECT coalesce(max(version), 0) + 1 FROM strategy_versions WHERE strategy = %s",
            (registration.strategy,),
        ).fetchone()
        version = int(row[0]) if row else 1
        conn.execute(
            f"INSERT INTO strategy_versions ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                registration.strategy,
                version,
                Jsonb(_plain(registration.params)),
                Jsonb(_plain(registration.risk)),
                Jsonb(list(registration.instruments)),
                None if expectation is None else Jsonb(expectation.model_dump(mode="json")),
                who,
                at,
            ),
        )
        audit(
            conn,
            who,
            "strategy.register",
            f"{registration.strategy}@v{version}",
            {"expectation": expectation is not None},
        )
    return version


def _plain(value: Any) -> Any:
    """JSON with Decimals as their exact text (never a float)."""
    return json.loads(json.dumps(value, default=str))


def strategy_versions(conn: psycopg.Connection, strategy: str) -> list[StoredVersion]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM strategy_versions WHERE strategy = %s ORDER BY version", (strategy,)
    ).fetchall()
    return [_stored(r) for r in rows]


def latest_version(conn: psycopg.Connection, strategy: str) -> StoredVersion | None:
    found = strategy_versions(conn, strategy)
    return found[-1] if found else None


def latest_versions(conn: psycopg.Connection) -> list[StoredVersion]:
    """Each registered strategy's latest version, by name."""
    rows = conn.execute(
        f"SELECT DISTINCT ON (strategy) {_COLUMNS} FROM strategy_versions ORDER BY strategy, version DESC"
    ).fetchall()
    return [_stored(r) for r in rows]


def settled_results(
    conn: psycopg.Connection, strategy: str, mode: str, since: datetime
) -> list[SettledResult]:
    """The strategy's closed positions of `mode` opened since `since` (its version's registration),
    one result per window (P&L summed, net of fees), in settlement order."""
    rows = conn.execute(
        "SELECT window_id, max(closed_at), sum(realized_pnl_usd) FROM positions"
        " WHERE strategy = %s AND mode = %s AND state = 'CLOSED' AND closed_at IS NOT NULL"
        " AND opened_at >= %s GROUP BY window_id ORDER BY max(closed_at), window_id",
        (strategy, mode, since),
    ).fetchall()
    return [SettledResult(str(w), at.astimezone(UTC), pnl) for w, at, pnl in rows]


def record_kill(
    conn: psycopg.Connection,
    version: StoredVersion,
    mode: str,
    reason: str,
    settled_windows: int,
    paused: bool,
    at: datetime,
) -> bool:
    """Record the kill of `version` in `mode`; False when it was already recorded (one episode)."""
    row = conn.execute(
        "INSERT INTO strategy_kills (strategy, version, mode, reason, settled_windows, paused, killed_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
        (version.strategy, version.version, mode, reason, settled_windows, paused, at),
    ).fetchone()
    return row is not None


@dataclass(frozen=True, slots=True)
class PositionRow:
    window_id: str
    token_id: str
    avg_entry_price: Decimal | None
    cost_usd: Decimal
    realized_pnl_usd: Decimal
    closed: bool


def strategy_positions(
    conn: psycopg.Connection, strategy: str, mode: str, start: datetime, end: datetime
) -> list[PositionRow]:
    """The strategy's positions of `mode` opened in [start, end), oldest first."""
    rows = conn.execute(
        "SELECT window_id, token_id, avg_entry_price, cost_usd, realized_pnl_usd, state = 'CLOSED'"
        " FROM positions WHERE strategy = %s AND mode = %s AND opened_at >= %s AND opened_at < %s"
        " ORDER BY opened_at, position_id",
        (strategy, mode, start, end),
    ).fetchall()
    return [PositionRow(str(w), str(t), e, c, p, bool(closed)) for w, t, e, c, p, closed in rows]
