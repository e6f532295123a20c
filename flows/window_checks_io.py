"""The window checks on the real stack: results into PostgreSQL, alerts onto ops.alerts.

Wiring only. `PostgresCheckSink` hands each result to the one ordered writer of its worker
(`sinks.postgres.write_queue.WriteQueue` over `sinks.postgres.ops.OpsWriter`, the writer `feeds`
used for the same rows): a database outage holds the rows in order and retries, never stalling the
trading flow; a full queue drops and counts. Every write is idempotent (the window row is upserted
before our outcome is set, discrepancies and completeness are keyed, alerts by their identity), so
a flow that repeats a window after a restart rewrites the same rows.
"""

from __future__ import annotations

from functools import partial

import structlog
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from psycopg_pool import ConnectionPool

from core.models import Alert
from core.window_checks import CheckOutput, CompletenessRow, IntegrityResult
from flows.window_checks import WindowCheckSinks
from sinks.postgres.ops import OpsWriter
from sinks.postgres.write_queue import WriteFailure, WriteQueue

__all__ = ["PostgresCheckSink", "kafka_check_sinks"]

log = structlog.get_logger(__name__)

QUEUE_CAPACITY = 10_000
CLOSE_TIMEOUT_S = 10.0


def _failed(failure: WriteFailure) -> None:
    log.error("flow.window_checks_write_failed", what=failure.what, error=failure.error[:300])


class _CheckPartition(StatelessSinkPartition[CheckOutput]):
    def __init__(self, database_url: str) -> None:
        self._pool = ConnectionPool(database_url, min_size=1, max_size=2, open=True, timeout=5.0)
        self._ops = OpsWriter(self._pool)
        self._writes = WriteQueue(QUEUE_CAPACITY, on_failure=_failed, name="flow.window_checks").start()

    def _submit(self, what: str, job: partial[None], essential: bool = False) -> None:
        self._writes.submit(what, job, essential=essential)

    def write_batch(self, items: list[CheckOutput]) -> None:
        ops = self._ops
        for item in items:
            if isinstance(item, CompletenessRow):
                self._submit(
                    "record_completeness",
                    partial(
                        ops.record_completeness,
                        item.feed,
                        item.window_id,
                        item.start_ts,
                        item.end_ts,
                        item.percent,
                        item.at,
                    ),
                )
                continue
            self._integrity(item)

    def _integrity(self, result: IntegrityResult) -> None:
        ops, window_id = self._ops, result.window.window_id
        self._submit("upsert_window", partial(ops.upsert_window, result.window), essential=True)
        self._submit(
            "record_our_outcome",
            partial(ops.record_our_outcome, window_id, result.outcome, result.at),
            essential=True,
        )
        for d in result.discrepancies:
            self._submit(
                "record_discrepancy",
                partial(ops.record_discrepancy, window_id, d.kind, d.ours, d.venue, d.detail, result.at),
                essential=True,
            )
        for alert in result.alerts:
            self._submit("record_alert", partial(ops.record_alert, alert), essential=True)

    def close(self) -> None:
        try:
            self._writes.close(timeout_s=CLOSE_TIMEOUT_S)
        finally:
            self._pool.close()


class PostgresCheckSink(DynamicSink[CheckOutput]):
    """Window integrity and completeness rows into the tables `feeds` wrote them to before."""

    def __init__(self, database_url: str) -> None:
        self._url = database_url

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _CheckPartition:
        return _CheckPartition(self._url)


def kafka_check_sinks(database_url: str, alerts: DynamicSink[Alert]) -> WindowCheckSinks:
    return WindowCheckSinks(checks=PostgresCheckSink(database_url), alerts=alerts)
