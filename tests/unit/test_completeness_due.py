"""A window's completeness is due once its end has passed on the data's clock or on ours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.feed_monitor import Completeness, completeness_due

T0 = datetime(2026, 6, 8, 12, 0, tzinfo=UTC)
ENDS = [("early", T0 + timedelta(minutes=5)), ("late", T0 + timedelta(minutes=15))]


def test_event_time_ahead_of_the_wall_clock_ends_windows_first() -> None:
    assert completeness_due(ENDS, T0, T0 + timedelta(minutes=6)) == ["early"]


def test_the_wall_clock_ends_windows_whose_feeds_went_silent() -> None:
    assert completeness_due(ENDS, T0 + timedelta(minutes=20), T0 + timedelta(minutes=1)) == ["early", "late"]
    assert completeness_due(ENDS, T0 + timedelta(minutes=5), None) == ["early"]


def test_nothing_is_due_before_either_clock_reaches_an_end() -> None:
    assert completeness_due(ENDS, T0, T0 + timedelta(minutes=4)) == []


def test_completeness_newest_is_the_latest_event_time_even_out_of_order() -> None:
    seen = Completeness()
    assert seen.newest is None
    seen.tick(T0 + timedelta(seconds=3))
    seen.tick(T0 + timedelta(seconds=1))
    assert seen.newest == T0 + timedelta(seconds=3)
    assert seen.percent(T0, T0 + timedelta(seconds=4)) == 50
