"""The process's one database writer on a real PostgreSQL: writes reach the database in the order they
were submitted, across an outage (the database refusing connections); a full queue refuses and
counts; a write the database rejects is reported and does not stop the ones behind it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import partial

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from core.backoff import Backoff
from core.enums import WindowPhase
from core.models import WindowEvent
from infra import stack
from sinks.postgres.migrate import migrate
from sinks.postgres.ops import OpsWriter, RetryPolicy
from sinks.postgres.write_queue import WriteFailure, WriteQueue
from tests.integration.feeds_harness import wait_for
from tests.integration.test_ops_outage import set_reachable

pytestmark = [pytest.mark.stack, pytest.mark.timeout(60)]

START = datetime(2026, 6, 8, 12, 0, tzinfo=UTC)
ONE_TRY = RetryPolicy(attempts=1, wait_max_s=0.01, wait_multiplier_s=0.01)
FAST = Backoff(base_s=0.01, cap_s=0.1)


@pytest.fixture
def database(fresh_database: str) -> str:
    migrate(fresh_database)
    return fresh_database


@pytest.fixture
def pool(database: str) -> Iterator[ConnectionPool]:
    with ConnectionPool(database, min_size=1, max_size=2, open=True, timeout=0.5) as opened:
        opened.wait()
        yield opened


def window(n: int) -> WindowEvent:
    start = START + timedelta(minutes=5 * n)
    return WindowEvent(
        source_ts=start,
        recv_ts=start,
        phase=WindowPhase.RESOLVED,
        window_id=f"btc-updown-5m-{int(start.timestamp())}",
        asset="btc",
        interval_s=300,
        condition_id="0x" + f"{n:064x}",
        up_token_id=str(2 * n + 10),
        down_token_id=str(2 * n + 11),
        start_ts=start,
        end_ts=start + timedelta(minutes=5),
    )


def outcomes(database: str) -> dict[str, str | None]:
    with psycopg.connect(database) as conn:
        return dict(conn.execute("SELECT window_id, our_outcome FROM windows").fetchall())


def test_writes_made_during_an_outage_arrive_in_submission_order_once_it_ends(
    database: str, pool: ConnectionPool, endpoints: stack.Endpoints
) -> None:
    ops = OpsWriter(pool, ONE_TRY)
    reports: list[WriteFailure] = []
    writes = WriteQueue(capacity=1000, retry=FAST, on_failure=reports.append).start()
    windows = [window(n) for n in range(40)]
    set_reachable(endpoints.database_url, database, False)
    try:
        for w in windows:  # the integrity UPDATE of a window is only right after its INSERT
            assert writes.submit("upsert_window", partial(ops.upsert_window, w))
            assert writes.submit("our_outcome", partial(ops.record_our_outcome, w.window_id, "UP", START))
        wait_for(lambda: writes.counts["retried"] >= 2, 10, "the first write to be retried")
        assert writes.depth == 80 and writes.counts["written"] == 0
    finally:
        set_reachable(endpoints.database_url, database, True)
    assert writes.wait_idle(20)
    writes.close()
    assert outcomes(database) == {w.window_id: "UP" for w in windows}
    assert [(r.transient, r.overflow) for r in reports] == [(True, False)]  # reported once per outage
    assert writes.counts["written"] == 80 and writes.counts["overflow"] == 0


def test_a_full_queue_refuses_and_counts_but_keeps_essential_writes(
    database: str, pool: ConnectionPool, endpoints: stack.Endpoints
) -> None:
    ops = OpsWriter(pool, ONE_TRY)
    reports: list[WriteFailure] = []
    writes = WriteQueue(capacity=5, retry=FAST, on_failure=reports.append).start()
    set_reachable(endpoints.database_url, database, False)
    try:
        accepted = [writes.submit("upsert_window", partial(ops.upsert_window, window(n))) for n in range(12)]
        gap = writes.submit("open_gap", partial(ops.open_gap, "test.full", START, "silence"), essential=True)
    finally:
        set_reachable(endpoints.database_url, database, True)
    assert writes.wait_idle(20)
    writes.close()
    assert accepted == [True] * 5 + [False] * 7 and gap
    assert writes.counts["overflow"] == 7
    assert [r.overflow for r in reports if r.overflow] == [True]  # one report per overflow episode
    assert len(outcomes(database)) == sum(accepted)
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM feed_gaps WHERE feed = 'test.full'").fetchone() == (1,)


def test_a_rejected_write_is_reported_and_the_next_ones_still_run(
    database: str, pool: ConnectionPool
) -> None:
    ops = OpsWriter(pool, ONE_TRY)
    reports: list[WriteFailure] = []
    writes = WriteQueue(retry=FAST, on_failure=reports.append).start()
    first, second = window(1), window(2)
    writes.submit("upsert_window", partial(ops.upsert_window, first))
    writes.submit(
        "record_discrepancy",  # 'nonsense' breaks the kind CHECK: a definite refusal, not an outage
        partial(ops.record_discrepancy, first.window_id, "nonsense", "UP", "DOWN", "", START),
    )
    writes.submit("upsert_window", partial(ops.upsert_window, second))
    assert writes.wait_idle(10)
    writes.close()
    assert set(outcomes(database)) == {first.window_id, second.window_id}
    [report] = reports
    assert report.what == "record_discrepancy" and not report.transient and "CheckViolation" in report.error
    assert writes.counts["failed"] == 1 and writes.counts["written"] == 2
