"""`polywindow checklist` reads MISSING on a fresh database and CONFIRMED once the campaign evidence is
stored; `execute --mode LIVE` against a venue that is not the simulator refuses to start while it is
incomplete, and an operator's override is audited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from core.campaign_checks import Check
from polywindow.campaign_gate import checklist_lines
from sinks.postgres.campaign_store import write_run
from tests.integration.cli import run_cli
from tests.integration.test_execute_kill import as_url
from tests.simulator.conftest import HARDHAT_KEY

pytestmark = [pytest.mark.stack, pytest.mark.timeout(90)]


def _run(conn: psycopg.Connection, kind: str, windows: int, passed_run_checks: list[str]) -> None:
    at = datetime.now(UTC)
    run_id = f"{kind}-{uuid.uuid4().hex[:8]}"
    write_run(
        conn,
        {
            "run_id": run_id,
            "kind": kind,
            "params": {},
            "started_at": at,
            "finished_at": at,
            "windows": windows,
            "checks": len(passed_run_checks),
            "failed": 0,
            "assertion_failures": 0,
            "passed": True,
            "summary": {},
        },
        [],
        [("", Check(name, True, "test evidence")) for name in passed_run_checks],
    )


def test_missing_on_a_fresh_database_and_confirmed_after_the_campaigns(fresh_database: str) -> None:
    env = {"DATABASE_URL": as_url(fresh_database), "POLYWINDOW_DASHBOARD_PORT": "9"}  # nothing listens on 9
    fresh = run_cli("checklist", env=env, timeout_s=60)
    assert fresh.returncode == 1, fresh.stderr
    assert [line.split()[0] for line in fresh.stdout.splitlines()[:4]] == ["MISSING"] * 4, fresh.stdout
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        _run(
            conn,
            "canary",
            20,
            ["balance", "kill_switch.PAUSE", "kill_switch.FLATTEN", "kill_switch.EMERGENCY"],
        )
        _run(conn, "stops", 25, ["A.fired", "B.fired", "C.fired", "D.fired", "E.never_fires"])
        lines = checklist_lines(conn, dashboard="http://127.0.0.1:9")
    assert [line.status for line in lines] == ["CONFIRMED", "CONFIRMED", "MISSING", "CONFIRMED"]
    assert "campaign_runs canary-" in lines[0].where


def test_a_short_canary_run_does_not_confirm_the_line(fresh_database: str) -> None:
    from sinks.postgres.migrate import migrate

    migrate(fresh_database)
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        _run(conn, "canary", 19, [])
        [canary, *_rest] = checklist_lines(conn, dashboard="http://127.0.0.1:9")
    assert canary.status == "MISSING" and "19 windows" in canary.where


def test_live_against_a_real_venue_refuses_while_incomplete_and_an_override_is_audited(
    fresh_database: str,
) -> None:
    env = {
        "DATABASE_URL": as_url(fresh_database),
        "POLY_PRIVATE_KEY": HARDHAT_KEY,
        "POLYWINDOW_CLOB_URL": "http://venue.invalid",
    }
    refused = run_cli("execute", "--mode", "LIVE", env=env, timeout_s=60)
    assert refused.returncode == 2
    assert "checklist is incomplete" in refused.stderr
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone() == (0,)
    reason = f"desk approval {uuid.uuid4().hex[:6]}"
    overridden = run_cli("execute", "--mode", "LIVE", "--override-checklist", reason, env=env, timeout_s=60)
    assert overridden.returncode != 0  # it got past the gate, to a venue that does not exist
    assert "checklist is incomplete" not in overridden.stderr
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        audited = conn.execute(
            "SELECT subject, detail->>'reason' FROM audit_log WHERE action = 'checklist_override'"
        ).fetchall()
    assert audited == [("http://venue.invalid", reason)]
