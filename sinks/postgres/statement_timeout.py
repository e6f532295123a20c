"""Connection pools of long-running processes with a statement timeout, whose timeouts are alerts.

`timeout_pool` sets `statement_timeout` on every connection of the pool, so one slow query cannot
hold a connection (and the process's writes behind it) for ever. A query PostgreSQL cancels for
that timeout is logged with its full context and reported as a `db.statement_timeout` alert
(core.query_timeouts: the query's name, its parameters redacted of secrets) through `report`
(the process's way to raise an alert on ops.alerts), then re-raised: the caller still sees its
error and handles it as before.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
import structlog
from psycopg import sql
from psycopg_pool import ConnectionPool

from core.models import Alert
from core.query_timeouts import query_name, redact, statement_timeout_alert

__all__ = ["is_statement_timeout", "timeout_pool"]

log = structlog.get_logger(__name__)


def is_statement_timeout(exc: BaseException) -> bool:
    """A cancel for the statement timeout (not a user's cancel, not a lock timeout)."""
    return isinstance(exc, psycopg.errors.QueryCanceled) and "statement timeout" in (
        exc.diag.message_primary or ""
    )


def _text(query: Any, cur: psycopg.Cursor[Any]) -> str:
    if isinstance(query, sql.Composable):
        return query.as_string(cur.connection)
    if isinstance(query, bytes):
        return query.decode(errors="replace")
    return str(query)


def _reporting_cursor(
    process: str, timeout_ms: int, report: Callable[[Alert], object], now: Callable[[], datetime]
) -> type[psycopg.Cursor[Any]]:
    class ReportingCursor(psycopg.Cursor[Any]):
        def execute(self, query: Any, params: Any = None, **kwargs: Any) -> ReportingCursor:
            try:
                super().execute(query, params, **kwargs)
            except psycopg.errors.QueryCanceled as exc:
                if is_statement_timeout(exc):
                    text = _text(query, self)
                    log.error(
                        "db.statement_timeout",
                        process=process,
                        query=query_name(text),
                        params=redact(params),
                        timeout_ms=timeout_ms,
                    )
                    try:
                        report(statement_timeout_alert(process, text, params, timeout_ms, now()))
                    except Exception as failed:  # raising the alert must not hide the query's error
                        log.warning("db.statement_timeout_not_alerted", error=str(failed)[:200])
                raise
            return self

    return ReportingCursor


def timeout_pool(
    database_url: str,
    *,
    process: str,
    timeout_ms: int,
    report: Callable[[Alert], object],
    now: Callable[[], datetime],
    **pool_options: Any,
) -> ConnectionPool:
    """A ConnectionPool (opened, unless `open=False` is given) whose queries time out after
    `timeout_ms`; `pool_options` go to ConnectionPool (min_size, max_size, timeout, ...)."""
    if timeout_ms <= 0:
        raise ValueError("timeout_ms must be positive")
    pool_options.setdefault("open", True)
    return ConnectionPool(
        database_url,
        kwargs={
            "options": f"-c statement_timeout={timeout_ms}",
            "cursor_factory": _reporting_cursor(process, timeout_ms, report, now),
        },
        **pool_options,
    )
