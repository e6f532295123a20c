"""Sweeps (research.sweep) over a small grid on real archived books (the resolvedkit fixture with
its recorded outcomes): the same rows run twice and with one or two processes; windows with a
feed gap left out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from core.backtest import all_instruments
from core.strategy_review import KillCriterion
from core.sweep import expand_grid
from research.backtest import BacktestJob
from research.sweep import SweepRow, run_sweep
from research.sweep_report import csv_text
from tests.fixture_archive import write_fixture_archive

pytestmark = pytest.mark.timeout(240)

FROM = datetime(2026, 9, 28, 9, 30, tzinfo=UTC)
TO = datetime(
    2026, 9, 28, 10, 15, tzinfo=UTC
)  # three 15-minute windows; the canary at T-240 s loses the second
LOSER = "btc-updown-15m-1790588700"
GRID = {"seconds_before_close": [120, 240], "notional_usd": "2"}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> BacktestJob:
    where = tmp_path_factory.mktemp("archive")
    assert write_fixture_archive(where, FROM, TO, outcomes=True) > 3000
    return BacktestJob(
        where, FROM - timedelta(minutes=30), TO + timedelta(minutes=5), "canary", {}, all_instruments()
    )


def _sweep(base: BacktestJob, processes: int, **kw: object) -> list[SweepRow]:
    return run_sweep(replace(base, **kw), expand_grid(GRID), processes, KillCriterion(max_loss_usd=1))  # type: ignore[arg-type]


def test_a_sweep_gives_the_same_rows_twice_and_with_one_or_two_processes(base: BacktestJob) -> None:
    once = _sweep(base, 1)
    assert [r.metrics.trades for r in once] == [2, 3]
    late, early = once  # T-120 s wins both windows it trades; T-240 s loses the second and is killed there
    assert late.metrics.wins == 2 and late.killed_after is None
    assert early.metrics.wins == 2 and early.metrics.max_drawdown_usd > 1 and early.killed_after == 2
    low, rate, high = early.metrics.ci_low, early.metrics.win_rate, early.metrics.ci_high
    assert low is not None and rate is not None and high is not None and low < rate < high
    assert _sweep(base, 1) == once
    two = _sweep(base, 2)
    assert two == once
    assert csv_text(two) == csv_text(once)


def test_a_window_with_a_feed_gap_is_left_out_of_every_parameter_set(base: BacktestJob) -> None:
    gap = (FROM + timedelta(minutes=20), FROM + timedelta(minutes=20, seconds=30))
    rows = _sweep(base, 1, gaps=(gap,))
    assert all(r.excluded_windows == (LOSER,) for r in rows)
    assert [r.metrics.trades for r in rows] == [1, 2] and rows[1].killed_after is None
