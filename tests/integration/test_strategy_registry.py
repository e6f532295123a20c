"""The strategy registry as an operator uses it (`polywindow strategy register|list|show`, run
in-process with typer's runner on a fresh database): versions are stored with their expectation,
never edited, a bad file is refused naming the problem, and LIVE refuses a strategy without an
expectation or with other parameters than registered."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
import typer
from psycopg.conninfo import conninfo_to_dict
from typer.testing import CliRunner

from core.strategy_review import Registration
from infra.stack import Endpoints
from polywindow.cli import app
from polywindow.strategy_cli import require_live_ready
from sinks.postgres.migrate import migrate
from sinks.postgres.strategy_registry import register

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]

BARE = {"strategy": "canary", "params": {"notional_usd": "2"}, "instruments": ["btc-5m", "eth-5m"]}
EXPECTATION = {
    "win_rate_low": "0.55",
    "win_rate_high": "0.7",
    "kill": {"min_windows": 10, "min_win_rate": "0.45"},
}


def _url(endpoints: Endpoints, conninfo: str) -> str:
    base, _, query = endpoints.database_url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{conninfo_to_dict(conninfo)['dbname']}" + (f"?{query}" if query else "")


def _file(tmp_path: Path, name: str, body: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(body))
    return str(path)


def test_versions_are_registered_listed_shown_and_never_edited(
    endpoints: Endpoints, fresh_database: str, tmp_path: Path
) -> None:
    migrate(fresh_database)
    runner = CliRunner()
    env = {"DATABASE_URL": _url(endpoints, fresh_database)}

    def cli(*args: str) -> tuple[int, str]:
        done = runner.invoke(app, list(args), env=env)
        return done.exit_code, done.output

    code, out = cli("strategy", "register", _file(tmp_path, "bare.json", BARE))
    assert code == 0 and "registered canary@v1 (no expectation: LIVE refuses it)" in out
    full = {**BARE, "expectation": EXPECTATION}
    code, out = cli("strategy", "register", _file(tmp_path, "full.json", full), "--who", "alice")
    assert code == 0 and "registered canary@v2" in out and "LIVE refuses" not in out

    code, out = cli("strategy", "list")
    assert code == 0 and "canary" in out and "0.55-0.7" in out and "btc-5m,eth-5m" in out
    code, out = cli("strategy", "show", "canary")
    shown = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [v["version"] for v in shown] == [1, 2]
    assert shown[0]["expectation"] is None and shown[1]["expectation"]["kill"]["min_win_rate"] == "0.45"
    assert shown[1]["registered_by"] == "alice" and shown[1]["params"] == {"notional_usd": "2"}

    with psycopg.connect(fresh_database) as conn:
        audited = conn.execute(
            "SELECT subject FROM audit_log WHERE action = 'strategy.register' ORDER BY id"
        ).fetchall()
        assert audited == [("canary@v1",), ("canary@v2",)]
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="never edited"):
            conn.execute("UPDATE strategy_versions SET params = '{}' WHERE version = 1")


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({**BARE, "strategy": "nope"}, "unknown strategy 'nope'"),
        ({**BARE, "params": {"notional_usd": "-1"}}, "notional_usd"),
        ({**BARE, "instruments": ["doge-5m"]}, "unknown instruments ['doge-5m']"),
        ({**BARE, "expectation": {**EXPECTATION, "kill": {"min_windows": 3}}}, "kill criterion needs"),
    ],
)
def test_a_bad_registration_is_refused_naming_the_problem(
    endpoints: Endpoints, fresh_database: str, tmp_path: Path, body: dict[str, object], why: str
) -> None:
    env = {"DATABASE_URL": _url(endpoints, fresh_database)}
    done = CliRunner().invoke(app, ["strategy", "register", _file(tmp_path, "bad.json", body)], env=env)
    assert done.exit_code == 2 and why in done.output


def test_live_refuses_a_strategy_without_an_expectation_or_with_other_parameters(
    fresh_database: str, tmp_path: Path
) -> None:
    migrate(fresh_database)

    def refused(strategies: dict[str, dict[str, object]]) -> bool:
        try:
            require_live_ready(fresh_database, strategies)
        except typer.Exit as exc:
            return exc.exit_code == 2
        return False

    assert refused({"canary": {"notional_usd": "2"}})  # not registered
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        register(conn, Registration.model_validate(BARE), "test", datetime.now(UTC))
        assert refused({"canary": {"notional_usd": "2"}})  # no expectation
        register(
            conn, Registration.model_validate({**BARE, "expectation": EXPECTATION}), "test", datetime.now(UTC)
        )
    assert not refused({"canary": {"notional_usd": "2.00"}})
    assert refused({"canary": {"notional_usd": "3"}})
