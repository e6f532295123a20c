"""Backtests through the trading flow: real archived books (the resolvedkit fixture in archive form),
event time as the clock, repeatable with one or two workers, feed-gap windows left out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.backtest import ReplayControls, all_instruments, summarize
from flows.replay import REPLAY_TOPICS, ReplayInput, ReplayResult, replay
from flows.running import RunPlan
from flows.trading import TradingFlowSettings
from sinks.archive_reader import read_archive
from tests.fixture_archive import write_fixture_archive

FROM = datetime(2026, 9, 28, 11, 0, tzinfo=UTC)
TO = datetime(2026, 9, 28, 11, 30, tzinfo=UTC)  # two 15-minute windows, both with a two-sided book at T-60
FIRST = "btc-updown-15m-1790593200"
SECOND = "btc-updown-15m-1790594100"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("archive")
    assert write_fixture_archive(where, FROM, TO) > 4000
    return where


def _replay(
    archive: Path,
    workers: int = 1,
    plan: RunPlan | None = None,
    out_dir: Path | None = None,
    buckets: int = 1,
    **kw: object,
) -> ReplayResult:
    inp = ReplayInput(
        events=lambda: read_archive(
            archive, REPLAY_TOPICS, FROM - timedelta(minutes=30), TO + timedelta(minutes=5)
        ),
        controls=ReplayControls(instruments=all_instruments(), strategies=frozenset({"canary"})),
        **kw,  # type: ignore[arg-type]
    )
    return replay(inp, TradingFlowSettings(route_buckets=buckets), workers, plan=plan, out_dir=out_dir)


def _dump(result: ReplayResult) -> list[str]:
    return [i.model_dump_json() for i in result.intents]


def test_the_canary_trades_each_replayed_window_once_in_backtest_mode(archive: Path) -> None:
    result = _replay(archive)
    assert sorted(i.window_id for i in result.intents) == [FIRST, SECOND]
    assert {i.mode.value for i in result.intents} == {"BACKTEST"}
    assert result.rejections == [] and result.quarantined == []
    [row] = summarize(result.signals, result.intents, result.rejections)
    assert (row.strategy, row.signals, row.intents) == ("canary", 2, 2)


def test_the_same_replay_run_twice_gives_identical_intents(archive: Path) -> None:
    assert _dump(_replay(archive)) == _dump(_replay(archive)) != []


def test_one_and_two_workers_give_identical_intents(archive: Path) -> None:
    """With one router, and with a router bucket per worker (`route_buckets`)."""
    one, two = _replay(archive, workers=1), _replay(archive, workers=2, buckets=2)
    assert _dump(one) == _dump(two) != []
    assert [s.model_dump_json() for s in one.signals] == [s.model_dump_json() for s in two.signals]


def test_a_window_with_a_feed_gap_is_left_out_unless_kept(archive: Path) -> None:
    gap = (FROM + timedelta(minutes=3), FROM + timedelta(minutes=3, seconds=20))
    left_out = _replay(archive, gaps=(gap,))
    assert [i.window_id for i in left_out.intents] == [SECOND]
    assert left_out.excluded_windows == {FIRST}

    kept = _replay(archive, gaps=(gap,), keep_gaps=True)
    assert sorted(i.window_id for i in kept.intents) == [FIRST, SECOND]
    assert kept.gap_windows_kept == {FIRST}
    [row] = summarize(kept.signals, kept.intents, kept.rejections, frozenset(kept.gap_windows_kept))
    assert row.intents_in_gap_windows == 1


def test_a_gap_still_open_leaves_out_every_window_after_its_start(archive: Path) -> None:
    result = _replay(archive, gaps=((FROM + timedelta(minutes=20), None),))
    assert [i.window_id for i in result.intents] == [FIRST]


def test_a_durable_replay_with_recovery_started_again_after_its_end_writes_nothing_twice(
    archive: Path, tmp_path: Path
) -> None:
    plan = RunPlan(workers=2, recovery_dir=tmp_path / "state", epoch=timedelta(milliseconds=200))
    first = _replay(archive, plan=plan, out_dir=tmp_path / "out", buckets=2)
    again = _replay(archive, plan=plan, out_dir=tmp_path / "out", buckets=2)
    assert _dump(first) == _dump(again) == _dump(_replay(archive)) != []
