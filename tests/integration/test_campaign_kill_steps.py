"""The canary campaign's kill-switch steps against a LIVE executor and the API (both the real
commands) on the simulator: PAUSE, FLATTEN and EMERGENCY each pass only when the executor carried
them out (FLATTEN set back to PAUSE by the executor, EMERGENCY's breaker open)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import psycopg
import pytest
from pydantic import SecretStr

from infra import stack
from polywindow.campaign_run import (
    LiveSet,
    flatten_and_emergency_steps,
    free_port,
    pause_step,
    paused_entries,
    wait_for_executor_pause,
)
from polywindow.processes import Child, ProcessGroup, wait_until
from polywindow.surface import answers
from sinks.postgres.migrate import migrate
from tests.integration.test_execute_kill import as_url
from tests.simulator.conftest import HARDHAT_KEY, RunningSim

pytestmark = [pytest.mark.stack, pytest.mark.timeout(180)]


def test_pause_flatten_and_emergency_steps_pass_on_what_the_executor_did(
    sim: RunningSim, fresh_database: str, endpoints: stack.Endpoints
) -> None:
    migrate(fresh_database)
    token, api_port = secrets.token_urlsafe(24), free_port()
    env = {
        "DATABASE_URL": as_url(fresh_database),
        "KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
        "KAFKA_CLIENT_CONFIG": '{"fetch.wait.max.ms": "1"}',
        "POLYWINDOW_CLOB_URL": sim.url,
        "POLY_PRIVATE_KEY": HARDHAT_KEY,
        "POLYWINDOW_EXECUTE_GROUP": f"kill-steps-{token[:6]}",
        "POLYWINDOW_API_TOKEN": token,
        "POLYWINDOW_API_PORT": str(api_port),
    }
    group = ProcessGroup()
    started = datetime.now(UTC)
    try:
        group.start(Child("execute", ("execute", "--mode", "LIVE"), env))
        api = group.start(Child("api", ("api",), env))
        url = f"http://127.0.0.1:{api_port}"
        assert wait_until(lambda: answers(f"{url}/health"), lambda: api.poll() is not None, 90) is None
        live = LiveSet(group, sim.url, url, token, SecretStr(HARDHAT_KEY))
        with psycopg.connect(fresh_database, autocommit=True) as conn:
            assert wait_for_executor_pause(conn, started, 90), "the LIVE executor did not start"
            pause, at = pause_step(live, conn, 30)
            checks = [paused_entries(conn, pause, at), *flatten_and_emergency_steps(live, conn, 60)]
    finally:
        group.stop()
    assert [(c.name, c.passed) for c in checks] == [
        ("kill_switch.PAUSE", True),
        ("kill_switch.FLATTEN", True),
        ("kill_switch.EMERGENCY", True),
    ], checks
