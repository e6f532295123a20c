"""core.backtest: which windows a replay may judge, its fixed controls, its summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.backtest import CONTROLS_EVERY, ReplayControls, all_instruments, controls_due, overlaps_gap
from core.controls import MAX_STALENESS, apply_snapshot
from core.enums import KillSwitch, TradingMode
from core.serde import encode
from tests.trading_builders import START

END = START + timedelta(minutes=15)
S = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("gap", "overlaps"),
    [
        ((START - 10 * S, START), False),  # ended as the window opened
        ((START - 10 * S, START + S), True),
        ((START + 60 * S, START + 61 * S), True),
        ((END - S, END + 60 * S), True),
        ((END, END + 60 * S), False),  # began as the window closed
        ((START - 3600 * S, None), True),  # still open
        ((END, None), False),
    ],
)
def test_a_gap_overlapping_the_window_marks_it(gap: tuple[object, object], overlaps: bool) -> None:
    assert overlaps_gap(START, END, [gap]) is overlaps  # type: ignore[list-item]


def test_no_gap_no_overlap() -> None:
    assert overlaps_gap(START, END, []) is False


def test_the_replay_controls_are_run_in_backtest_and_fresh_at_their_own_time() -> None:
    controls = apply_snapshot(None, ReplayControls(all_instruments(), frozenset({"canary"})).snapshot(START))
    assert controls.kill_switch is KillSwitch.RUN and controls.trading_mode is TradingMode.BACKTEST
    assert "btc-15m" in controls.allowed_instruments and controls.allowed_strategies == {"canary"}
    assert controls.as_of == START


def test_controls_are_restated_well_inside_the_staleness_limit() -> None:
    assert CONTROLS_EVERY < MAX_STALENESS
    assert controls_due(None, START)
    assert not controls_due(START, START + CONTROLS_EVERY - timedelta(microseconds=1))
    assert controls_due(START, START + CONTROLS_EVERY)


@given(st.datetimes(timezones=st.just(UTC)))
def test_the_restated_controls_json_is_exactly_the_encoded_snapshot(at: datetime) -> None:
    controls = ReplayControls(instruments=all_instruments(), strategies=frozenset({"canary", "x"}))
    assert controls.snapshot_json(at) == encode(controls.snapshot(at))
