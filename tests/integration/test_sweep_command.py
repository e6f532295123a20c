"""`polywindow sweep` as an operator runs it (in-process, typer's runner): a grid over the fixture
archive gives a table, a CSV and a chart, with the registered kill criterion applied."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict
from typer.testing import CliRunner

from infra.stack import Endpoints
from polywindow.cli import app
from sinks.postgres.migrate import migrate
from tests.fixture_archive import write_fixture_archive

pytestmark = [pytest.mark.stack, pytest.mark.timeout(180)]

FROM = datetime(2026, 9, 28, 9, 30, tzinfo=UTC)
TO = datetime(2026, 9, 28, 10, 15, tzinfo=UTC)
REGISTRATION = {
    "strategy": "canary",
    "instruments": ["btc-15m"],
    "expectation": {"win_rate_low": "0.6", "win_rate_high": "0.9", "kill": {"max_loss_usd": "1"}},
}


def _url(endpoints: Endpoints, conninfo: str) -> str:
    base, _, query = endpoints.database_url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{conninfo_to_dict(conninfo)['dbname']}" + (f"?{query}" if query else "")


def test_a_sweep_writes_its_table_csv_and_chart_with_the_registered_kill_criterion(
    endpoints: Endpoints, fresh_database: str, tmp_path: Path
) -> None:
    migrate(fresh_database)
    write_fixture_archive(tmp_path / "archive", FROM, TO, outcomes=True)
    (tmp_path / "canary.json").write_text(json.dumps(REGISTRATION))
    (tmp_path / "grid.toml").write_text("seconds_before_close = [120, 240]\nnotional_usd = 2.0\n")
    env = {
        "DATABASE_URL": _url(endpoints, fresh_database),
        "POLYWINDOW_ARCHIVE_DIR": str(tmp_path / "archive"),
    }
    runner = CliRunner()
    assert runner.invoke(app, ["strategy", "register", str(tmp_path / "canary.json")], env=env).exit_code == 0
    out = tmp_path / "out"
    args = [
        "sweep",
        "--strategy",
        "canary",
        "--grid",
        str(tmp_path / "grid.toml"),
        "-p",
        "1",
        "--out",
        str(out),
    ]
    done = runner.invoke(app, [*args, "--from", "2026-09-28T09:00Z", "--to", "2026-09-28T10:20Z"], env=env)
    assert done.exit_code == 0, done.output
    assert '"max_loss_usd":"1"' in done.output and "95% CI (Wilson)" in done.output
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert [(r["params"], r["trades"], r["killed_after"]) for r in rows] == [
        ('{"notional_usd":"2.0","seconds_before_close":120}', "2", ""),
        ('{"notional_usd":"2.0","seconds_before_close":240}', "3", "2"),
    ]
    assert "vega" in (out / "sweep.html").read_text()
