"""`polywindow api` served as an operator runs it, and `polywindow controls` changing a control
through it from the shell; without a token the API refuses to start, naming the setting."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from urllib.parse import quote, urlencode

import httpx
import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from infra import stack
from sinks.postgres.migrate import migrate
from tests.integration.api_harness import wait_for
from tests.integration.cli import POLYWINDOW, REPO, run_cli

pytestmark = [pytest.mark.stack, pytest.mark.timeout(180)]

TOKEN = "cli-test-token-" + "y" * 20


def _as_url(conninfo: str) -> str:
    """The fresh database's conninfo as the postgresql:// URL DATABASE_URL takes."""
    parts = conninfo_to_dict(conninfo)
    user = quote(str(parts.pop("user", "")))
    password = parts.pop("password", None)
    host = str(parts.pop("host", ""))
    port = parts.pop("port", None)
    dbname = quote(str(parts.pop("dbname", "")))
    auth = f"{user}:{quote(str(password))}@" if password else (f"{user}@" if user else "")
    query = {"host": host, **({"port": str(port)} if port else {}), **{k: str(v) for k, v in parts.items()}}
    if host.startswith("/"):
        return f"postgresql://{auth}/{dbname}?{urlencode(query)}"
    query.pop("host")
    query.pop("port", None)
    where = f"{host}:{port}" if port else host
    return f"postgresql://{auth}{where}/{dbname}" + (f"?{urlencode(query)}" if query else "")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code in (200, 503)
    except httpx.HTTPError:
        return False


def test_the_api_refuses_to_start_without_a_token() -> None:
    done = run_cli("api", env={"POLYWINDOW_API_TOKEN": ""})
    assert done.returncode == 2 and "POLYWINDOW_API_TOKEN" in done.stderr


def test_a_short_token_stops_start_up_naming_the_setting_without_echoing_it() -> None:
    done = run_cli("api", env={"POLYWINDOW_API_TOKEN": "short-secret"})
    assert (
        done.returncode == 2 and "POLYWINDOW_API_TOKEN" in done.stderr and "short-secret" not in done.stderr
    )


def test_controls_set_through_the_running_api_lands_in_the_table(
    endpoints: stack.Endpoints, fresh_database: str
) -> None:
    migrate(fresh_database)
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _as_url(fresh_database),
        "KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
        "POLYWINDOW_API_TOKEN": TOKEN,
        "POLYWINDOW_API_PORT": str(port),
        "POLYWINDOW_API_URL": f"http://127.0.0.1:{port}",
    }
    proc = subprocess.Popen(
        [str(POLYWINDOW), "api"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(
            lambda: _answers(f"http://127.0.0.1:{port}/health") or proc.poll() is not None, 60, "the API"
        )
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=5).json()["info"]["title"]
        changed = run_cli(
            "controls", "set", "max_session_loss_usd", "12.5", "--why", "cli test", "--who", "erin", env=env
        )
        assert changed.returncode == 0, changed.stderr
        assert "12.5" in changed.stdout
        shown = run_cli("controls", "show", env=env)
        assert shown.returncode == 0 and "max_session_loss_usd" in shown.stdout and "erin" in shown.stdout
        refused = run_cli("controls", "set", "kill_switch", "MAYBE", "--why", "x", env=env)
        assert refused.returncode == 1 and "kill_switch takes one of" in refused.stderr
        assert TOKEN not in changed.stdout + changed.stderr + shown.stdout + refused.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    with psycopg.connect(fresh_database) as conn:
        row = conn.execute(
            "SELECT value #>> '{}', updated_by FROM runtime_controls WHERE name = 'max_session_loss_usd'"
        ).fetchone()
        audit = conn.execute(
            "SELECT actor, detail->>'why' FROM audit_log ORDER BY id DESC LIMIT 1"
        ).fetchone()
    assert row == ("12.5", "erin") and audit == ("erin", "cli test")
