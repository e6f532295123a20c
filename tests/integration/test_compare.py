"""`polywindow compare`'s engine (research.compare): live positions in PostgreSQL beside the same
windows replayed in BACKTEST from the archive (real fixture books and outcomes); and the command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict
from typer.testing import CliRunner

from core.backtest import all_instruments
from core.enums import Outcome
from infra.stack import Endpoints
from polywindow.cli import app
from research.backtest import BacktestJob
from research.compare import archived_windows, compare_live
from sinks.postgres.migrate import migrate
from tests.fixture_archive import write_fixture_archive

pytestmark = [pytest.mark.stack, pytest.mark.timeout(180)]

FROM = datetime(2026, 9, 28, 9, 30, tzinfo=UTC)
TO = datetime(2026, 9, 28, 10, 15, tzinfo=UTC)
SECOND, THIRD = "btc-updown-15m-1790588700", "btc-updown-15m-1790589600"


def _url(endpoints: Endpoints, conninfo: str) -> str:
    base, _, query = endpoints.database_url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{conninfo_to_dict(conninfo)['dbname']}" + (f"?{query}" if query else "")


def test_live_windows_are_set_beside_the_backtest_and_a_live_win_rate_outside_its_interval_is_named(
    endpoints: Endpoints, fresh_database: str, tmp_path: Path
) -> None:
    migrate(fresh_database)
    archive = tmp_path / "archive"
    write_fixture_archive(archive, FROM, TO, outcomes=True)
    windows = archived_windows(archive, FROM - timedelta(hours=1), TO)
    live = [(SECOND, "UP", "0.75", "1.5", "0.5"), (THIRD, "UP", "0.95", "1.9", "0.1")]
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        for i, (window_id, side, entry, cost, pnl) in enumerate(live):
            w = windows[window_id]
            token = w.up_token_id if side == "UP" else w.down_token_id
            at = w.end_ts - timedelta(minutes=4)
            conn.execute(
                "INSERT INTO positions (position_id, mode, window_id, token_id, strategy, state, size,"
                " avg_entry_price, cost_usd, realized_pnl_usd, opened_at, closed_at, updated_at)"
                " VALUES (%s, 'LIVE', %s, %s, 'canary', 'CLOSED', 0, %s, %s, %s, %s, %s, %s)",
                (f"p{i}", window_id, str(token), entry, cost, pnl, at, w.end_ts, w.end_ts),
            )
        job = BacktestJob(
            archive, FROM, TO, "canary", {"seconds_before_close": 240, "notional_usd": "2"}, all_instruments()
        )
        result = compare_live(conn, job, "LIVE")
    second, third = result.rows
    assert (second.window_id, second.live.outcome, second.same_decision) == (SECOND, Outcome.UP, False)
    assert second.backtest is not None and second.backtest.outcome is Outcome.DOWN
    assert (third.window_id, third.same_decision) == (THIRD, True)
    assert third.backtest is not None and third.entry_diff == Decimal("0.95") - third.backtest.entry  # type: ignore[operator]
    s = result.summary
    assert (
        s.windows,
        s.same_decisions,
        s.live_wins,
        s.live_settled,
        s.backtest_wins,
        s.backtest_settled,
    ) == (
        2,
        1,
        2,
        2,
        1,
        2,
    )
    assert s.live_outside is True and s.ci_high is not None and s.ci_high < 1

    env = {"DATABASE_URL": _url(endpoints, fresh_database), "POLYWINDOW_ARCHIVE_DIR": str(archive)}
    params = '{"seconds_before_close": 240, "notional_usd": "2"}'
    args = [
        "compare",
        "--strategy",
        "canary",
        "--params",
        params,
        "--from",
        "2026-09-28T09:30Z",
        "--to",
        "2026-09-28T10:15Z",
    ]
    done = CliRunner().invoke(app, args, env=env)
    assert done.exit_code == 1, done.output
    assert "2 window(s), 1 same decision(s); LIVE: 2/2 won" in done.output and "OUTSIDE" in done.output
    assert f"{SECOND:<28}" in done.output and "NO" in done.output
