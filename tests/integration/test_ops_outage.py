"""A database outage does not lose feed gap rows: writes are retried, and a gap open/close that still
fails stays pending and is written, open before close, once the database accepts connections again.
The outage is real: the test database refuses connections and the pool's sessions are terminated."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from infra import stack
from sinks.postgres.migrate import migrate
from sinks.postgres.ops import OpsWriter, RetryPolicy
from tests.integration.feeds_harness import wait_for

pytestmark = [pytest.mark.stack, pytest.mark.timeout(30)]


@pytest.fixture
def database(fresh_database: str) -> str:
    migrate(fresh_database)
    return fresh_database


@pytest.fixture
def pool(database: str) -> Iterator[ConnectionPool]:
    with ConnectionPool(database, min_size=1, max_size=2, open=True, timeout=0.5) as opened:
        opened.wait()
        yield opened


def set_reachable(admin_url: str, database: str, reachable: bool) -> None:
    """Let the database accept connections again, or refuse them and drop the ones it has."""
    name = conninfo_to_dict(database)["dbname"]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"true" if reachable else "false"}')
        if not reachable:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )


def gap_rows(database: str, feed: str) -> list[tuple[datetime, datetime | None, str]]:
    with psycopg.connect(database) as conn:
        return conn.execute(
            "SELECT started_at, ended_at, detail FROM feed_gaps WHERE feed = %s", (feed,)
        ).fetchall()


def test_gap_open_and_close_during_an_outage_are_written_in_order_once_it_ends(
    database: str, pool: ConnectionPool, endpoints: stack.Endpoints
) -> None:
    admin_url = endpoints.database_url
    ops = OpsWriter(pool, RetryPolicy(attempts=2, wait_max_s=0.05, wait_multiplier_s=0.01))
    feed = "test.outage"
    started = datetime(2026, 6, 8, 12, 0, 0, tzinfo=UTC)
    ended = started + timedelta(seconds=7)
    assert ops.open_gap_start(feed) is None  # the pool works before the outage

    set_reachable(admin_url, database, False)
    try:
        assert ops.open_gap(feed, started, "no tick for 5 s") is False
        assert ops.close_gap(feed, ended) is False
        assert ops.pending_gaps == 2
        assert ops.failed_attempts >= 2  # each write was retried before being kept
        assert ops.flush_pending() is False
    finally:
        set_reachable(admin_url, database, True)

    wait_for(ops.flush_pending, 20, "the pending gap writes")
    assert ops.pending_gaps == 0
    assert gap_rows(database, feed) == [(started, ended, "no tick for 5 s")]


def test_a_write_failing_once_is_retried_not_lost(
    database: str, pool: ConnectionPool, endpoints: stack.Endpoints
) -> None:
    admin_url = endpoints.database_url
    ops = OpsWriter(pool, RetryPolicy(attempts=5, wait_max_s=0.2, wait_multiplier_s=0.05))
    feed = "test.killed"
    started = datetime(2026, 6, 8, 12, 0, 0, tzinfo=UTC)
    assert ops.open_gap_start(feed) is None
    with psycopg.connect(admin_url, autocommit=True) as conn:  # the pool's idle session dies
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (conninfo_to_dict(database)["dbname"],),
        )

    assert ops.open_gap(feed, started, "silence") is True
    assert ops.failed_attempts >= 1  # the write on the killed session failed and was retried
    assert ops.pending_gaps == 0
    assert gap_rows(database, feed) == [(started, None, "silence")]
