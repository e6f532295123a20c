"""The long-running processes' pools carry POLYWINDOW_DB_STATEMENT_TIMEOUT_MS; a query cancelled by
it in `feeds` is a db.statement_timeout alert row (and on ops.alerts), its secrets redacted."""

from __future__ import annotations

import psycopg
import pytest

from infra import stack
from polywindow.settings import FeedSettings
from polywindow.wiring import Feeds
from sinks.postgres.migrate import migrate
from tests.integration.api_harness import wait_for

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]


def _timeout_alerts(database: str) -> list[str]:
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT message FROM alerts WHERE kind = 'db.statement_timeout'").fetchall()
    return [str(r[0]) for r in rows]


def test_a_feeds_query_past_its_statement_timeout_is_alerted(
    endpoints: stack.Endpoints, fresh_database: str
) -> None:
    migrate(fresh_database)
    settings = FeedSettings(db_statement_timeout_ms=200)
    feeds = Feeds(settings, endpoints.kafka_bootstrap, fresh_database, only={"gamma"})
    try:
        with feeds.pool.connection() as conn:
            assert conn.execute("SHOW statement_timeout").fetchone() == ("200ms",)
            with pytest.raises(psycopg.errors.QueryCanceled):
                conn.execute("SELECT pg_sleep(%s), %s::text", (3, "Bearer abc.def.ghi"))
        wait_for(lambda: bool(_timeout_alerts(fresh_database)), 30, "the timeout's alert row")
    finally:
        feeds.close()
    (message,) = _timeout_alerts(fresh_database)
    assert message.startswith("feeds: query 'select pg_sleep'") and "200 ms" in message
    assert "abc.def" not in message and "3" in message
