"""An embedded PostgreSQL asked to stop while a client holds a connection: `stack` commands say what
is going on instead of crashing, and `stack down` stops it anyway (a stack of its own in tmp)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import psycopg
import pytest

from infra import local_pg, stack

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]


def test_a_server_waiting_on_clients_to_shut_down_is_reported_and_stack_down_stops_it(
    endpoints: stack.Endpoints, tmp_path: Path
) -> None:
    own = stack.up(tmp_path, None, endpoints.kafka_bootstrap, {}, 60)  # our PostgreSQL, the shared broker
    pg = tmp_path / "pg"
    held = psycopg.connect(own.database_url, autocommit=True)
    try:
        pid = local_pg.running_pid(pg)
        assert pid is not None
        os.kill(pid, signal.SIGTERM)  # 'smart' shutdown: waits for `held` to disconnect
        deadline = time.monotonic() + 30
        while not local_pg.shutting_down(pg):
            assert time.monotonic() < deadline, "the server never entered its shutdown"
            time.sleep(0.05)

        rows = stack.status(tmp_path, None, endpoints.kafka_bootstrap)
        (postgres,) = [r for r in rows if r.name == "postgresql"]
        assert postgres.running is False and "SHUTTING DOWN" in postgres.where
        for call in (
            lambda: stack.endpoints(tmp_path, None, endpoints.kafka_bootstrap),
            lambda: stack.up(tmp_path, None, endpoints.kafka_bootstrap, {}, 5),
        ):
            with pytest.raises(stack.StackError, match="stack down"):
                call()

        stopped = stack.down(tmp_path, timeout_s=10)
        assert any(s.startswith("postgresql") for s in stopped)
        assert local_pg.running_pid(pg) is None
        with pytest.raises(psycopg.OperationalError):
            held.execute("SELECT 1")  # the fast shutdown ended the session that held it up
    finally:
        held.close()
        stack.down(tmp_path, timeout_s=10)
