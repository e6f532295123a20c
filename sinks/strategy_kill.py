"""The kill criterion acted on: when a registered strategy's settled results meet its pre-registered
kill criterion (`core.strategy_review.kill_verdict`), the strategy is paused by taking it out of the
`allowed_strategies` control through the control service's own write (validated by core, written
with its audit row, then published on `ctl.controls`), the kill is recorded once per version and
mode (`strategy_kills`), and one CRITICAL `strategy.killed` alert is raised (dedupe key: the
version and mode). A version already killed in a mode is never acted on again: an operator who
allows it again means it (or registers a new version).

`check_kills` is the watcher's hook (live and paper positions, after every settled window);
`enforce_kill` is shared with the backtest (`polywindow strategy backtest`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

import psycopg

from core.control_values import canonical
from core.controls import parse_list
from core.enums import ControlName, Severity
from core.models import Alert, ControlChange
from core.strategy_review import kill_verdict, without_strategy
from sinks.postgres.control_table import write_control
from sinks.postgres.strategy_registry import StoredVersion, latest_versions, record_kill, settled_results

__all__ = ["KILL_ACTOR", "WATCHED_MODES", "check_kills", "enforce_kill"]

KILL_ACTOR = "strategy-kill"
WATCHED_MODES = ("LIVE", "PAPER")
"""The modes whose results the watcher judges (a dry run fills on captured books, never the venue)."""


def _allowed(conn: psycopg.Connection) -> frozenset[str]:
    row = conn.execute(
        "SELECT value::text FROM runtime_controls WHERE name = 'allowed_strategies' FOR UPDATE"
    ).fetchone()
    return parse_list(str(row[0])) if row else frozenset()


def enforce_kill(
    conn: psycopg.Connection,
    publish_control: Callable[[ControlChange], None],
    version: StoredVersion,
    mode: str,
    verdict: tuple[int, str],
    now: datetime,
) -> Alert | None:
    """Pause the strategy and record the kill (one transaction), publish the control change; the
    alert to raise, or None when this version was already killed in `mode`."""
    settled, why = verdict
    change: ControlChange | None = None
    with conn.transaction():
        remaining = without_strategy(_allowed(conn), version.strategy)
        if not record_kill(conn, version, mode, why, settled, remaining is not None, now):
            return None
        if remaining is not None:
            control = canonical(ControlName.ALLOWED_STRATEGIES.value, json.dumps(sorted(remaining)))
            change = ControlChange(
                name=control.name,
                value=control.text,
                updated_by=KILL_ACTOR,
                updated_at=now,
                reason=f"kill criterion of {version.strategy}@v{version.version} met in {mode}: {why}",
            )
            write_control(conn, control, change)
    if change is not None:
        publish_control(change)
    state = "paused" if change is not None else "was not allowed; nothing to pause"
    return Alert(
        alert_kind="strategy.killed",
        severity=Severity.CRITICAL,
        message=f"{version.strategy}@v{version.version} {state}: kill criterion met in {mode}"
        f" after {settled} settled window(s): {why}",
        dedupe_key=f"{version.strategy}@v{version.version}/{mode}",
        event_ts=now,
    )


def check_kills(
    conn: psycopg.Connection, publish_control: Callable[[ControlChange], None], now: datetime
) -> list[Alert]:
    """Every registered strategy's latest version with an expectation, judged on its settled live
    and paper windows since its registration; the alerts of the kills made now."""
    raised: list[Alert] = []
    for version in latest_versions(conn):
        if version.expectation is None:
            continue
        for mode in WATCHED_MODES:
            results = settled_results(conn, version.strategy, mode, version.registered_at)
            why = kill_verdict(results, version.expectation.kill)
            if why is None:
                continue
            alert = enforce_kill(conn, publish_control, version, mode, (len(results), why), now)
            if alert is not None:
                raised.append(alert)
    return raised
