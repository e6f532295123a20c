"""Replays see each source event once, and the memory of ids stays bounded by the horizon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.replay_dedupe import SourceIdWindow

T0 = datetime(2031, 1, 1, tzinfo=UTC)


def test_a_copy_within_the_horizon_is_dropped_and_one_after_it_is_a_new_event() -> None:
    seen = SourceIdWindow({"md.oracle": timedelta(minutes=10)})
    assert seen.first("md.oracle", "a", T0)
    assert not seen.first("md.oracle", "a", T0 + timedelta(minutes=9))
    assert seen.first("md.spot", "a", T0 + timedelta(minutes=9))  # ids are per topic
    assert seen.first("md.oracle", "a", T0 + timedelta(minutes=11))


def test_a_display_rounded_backfill_copy_of_a_print_already_seen_is_the_same_event() -> None:
    seen = SourceIdWindow()
    exact = "CHAINLINK_SPOT:btc/usd:1788600388000:79696948174287960000000"
    assert seen.first("md.oracle", exact, T0)
    assert not seen.first("md.oracle", "CHAINLINK_SPOT:btc/usd:1788600388000:~79696.95", T0)
    corrected = "CHAINLINK_SPOT:btc/usd:1788600388000:79696948174287960000001"
    assert seen.first("md.oracle", corrected, T0)  # a same-second correction is a new value
    assert seen.first("md.oracle", "CHAINLINK_SPOT:btc/usd:1788600389000:~79697.1", T0)  # not seen yet


@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 5)), max_size=300))
def test_ids_are_remembered_only_for_the_horizon(steps: list[tuple[int, int]]) -> None:
    """Whatever the stream, it keeps no id older than the horizon and drops exactly the repeats
    whose previous kept copy is within it."""
    horizon = timedelta(seconds=60)
    seen, at = SourceIdWindow({}, default=horizon), T0
    kept: dict[str, datetime] = {}
    for advance_s, ident in steps:
        at += timedelta(seconds=advance_s)
        sid = f"id{ident}"
        expected = sid not in kept or kept[sid] < at - horizon
        assert seen.first("md.oracle", sid, at) is expected
        if expected:
            kept[sid] = at
        assert len(seen) == sum(1 for t in kept.values() if t >= at - horizon)
