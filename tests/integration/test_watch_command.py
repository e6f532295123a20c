"""`polywindow watch` and `polywindow sink` as an operator runs them: an order left UNKNOWN in
PostgreSQL reaches the webhook (a local HTTP receiver) once, and the webhook's URL is never printed."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from infra import stack
from sinks.postgres.migrate import migrate
from tests.integration.api_harness import wait_for
from tests.integration.cli import POLYWINDOW, REPO
from tests.integration.test_api_command import _as_url
from tests.integration.webhook_receiver import webhook_receiver

pytestmark = [pytest.mark.stack, pytest.mark.timeout(180)]


def test_an_unknown_order_found_by_the_watcher_is_delivered_once_by_the_sink(
    endpoints: stack.Endpoints, fresh_database: str
) -> None:
    migrate(fresh_database)
    order = f"c-{uuid.uuid4().hex[:10]}"
    now = datetime.now(UTC)
    with psycopg.connect(fresh_database) as conn:
        conn.execute(
            "INSERT INTO orders (client_order_id, venue_order_id, mode, window_id, token_id, side, order_type,"
            " price, size, status, created_at, updated_at)"
            " VALUES (%s, %s, 'LIVE', 'btc-5m-1', 't1', 'BUY', 'FAK', 0.5, 10, 'UNKNOWN', %s, %s)",
            (order, "0x" + uuid.uuid4().hex * 2, now, now),
        )
    with webhook_receiver() as receiver:
        env = {
            **os.environ,
            "DATABASE_URL": _as_url(fresh_database),
            "KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
            "POLYWINDOW_ALERT_URLS": receiver.url,
            "POLYWINDOW_WATCH_INTERVAL_S": "0.5",
        }
        procs = [
            subprocess.Popen(
                [str(POLYWINDOW), cmd],
                cwd=REPO,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for cmd in ("watch", "sink")
        ]

        def mine() -> list[str]:
            return [str(b["message"]) for b in receiver.received if order in str(b["message"])]

        try:
            wait_for(lambda: bool(mine()) or any(p.poll() is not None for p in procs), 90, "the alert")
            assert all(p.poll() is None for p in procs)
        finally:
            for p in procs:
                p.send_signal(signal.SIGINT)
            outputs = [p.communicate(timeout=30) for p in procs]
    assert len(mine()) == 1 and "UNKNOWN" in mine()[0]
    printed = "".join(out + err for out, err in outputs)
    assert "watch: stopped" in printed and receiver.url not in printed
    assert [p.returncode for p in procs] == [0, 0]
