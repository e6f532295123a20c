"""Completeness per feed: RTDS speaks every second, so a second without a print is a missing
second; the market channel speaks only when a book changes, so what counts is being connected,
subscribed and not in a gap. A healthy feed reads 100% under its own rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.feed_monitor import (
    Completeness,
    CompletenessRule,
    ConnectedCompleteness,
    completeness_for,
)

T0 = datetime(2026, 6, 8, 12, 0, tzinfo=UTC)


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def test_each_feed_rule_has_its_own_measure() -> None:
    assert isinstance(completeness_for(CompletenessRule.PRINTS), Completeness)
    assert isinstance(completeness_for(CompletenessRule.CONNECTED), ConnectedCompleteness)


def test_a_quiet_connected_market_channel_reads_100_percent() -> None:
    """Two book changes a minute apart on one unbroken connection: the whole window is covered
    (the seconds-with-a-tick measure reads 1.67% for the same input)."""
    c = ConnectedCompleteness()
    prints = Completeness()
    for s in (-1, 30, 61):
        c.tick(at(s))
        prints.tick(at(s))
    assert c.percent(at(0), at(60)) == Decimal("100.00")
    assert prints.percent(at(0), at(60)) == Decimal("1.67")


def test_an_interruption_uncovers_the_time_until_the_next_event() -> None:
    c = ConnectedCompleteness()
    c.tick(at(0))
    c.tick(at(20))
    c.interrupted()  # a disconnect or a gap opened after the print at 20 s
    c.tick(at(50))  # reconnected, resynced: covered again from here
    c.tick(at(100))
    assert c.percent(at(0), at(100)) == Decimal("70.00")


def test_the_live_session_counts_up_to_now() -> None:
    c = ConnectedCompleteness()
    c.tick(at(0))
    assert c.percent(at(0), at(10)) == Decimal("0.00")
    assert c.percent(at(0), at(10), now=at(10)) == Decimal("100.00")
    c.interrupted()
    assert c.percent(at(0), at(10), now=at(10)) == Decimal("0.00")


def test_before_the_first_event_nothing_is_covered() -> None:
    c = ConnectedCompleteness()
    c.tick(at(40))
    c.tick(at(100))
    assert c.percent(at(0), at(100)) == Decimal("60.00")


def test_old_sessions_are_forgotten_past_the_horizon() -> None:
    c = ConnectedCompleteness(keep=timedelta(seconds=100))
    for start in range(0, 10_000, 10):
        c.tick(at(start))
        c.tick(at(start + 5))
        c.interrupted()
    assert c.sessions <= 12
    assert c.percent(at(0), at(10)) == Decimal("0.00")


def test_a_late_event_does_not_claim_time_before_the_session_began() -> None:
    c = ConnectedCompleteness()
    c.tick(at(50))  # the first event after connecting
    c.tick(at(10))  # an older venue timestamp arriving late
    c.tick(at(100))
    assert c.percent(at(0), at(100)) == Decimal("50.00")


def test_an_empty_window_is_refused() -> None:
    with pytest.raises(ValueError):
        ConnectedCompleteness().percent(at(5), at(5))


# A run: integer event seconds, and interruptions between them.
runs = st.lists(
    st.one_of(st.integers(min_value=-20, max_value=120), st.none()),  # None = interrupted
    max_size=60,
)


def reference(run: list[int | None], start: int, end: int, now: int | None) -> Decimal:
    """Seconds s in [start, end) inside some session's [first event, latest event] (the live one up
    to `now`), counted one by one."""
    sessions: list[list[int]] = []
    live: list[int] = []
    for item in run:
        if item is None:
            if live:
                sessions.append(live)
            live = []
        else:
            live.append(item)
    spans = [(s[0], max(s)) for s in sessions]
    if live:
        spans.append((live[0], max(max(live), now if now is not None else max(live))))
    covered = sum(1 for s in range(start, end) if any(a <= s and s + 1 <= b for a, b in spans))
    return (Decimal(covered) * 100 / Decimal(end - start)).quantize(Decimal("0.01"))


@given(runs, st.integers(-10, 60), st.integers(1, 80), st.one_of(st.none(), st.integers(0, 150)))
def test_coverage_is_the_union_of_unbroken_sessions(
    run: list[int | None], start: int, length: int, now: int | None
) -> None:
    c = ConnectedCompleteness()
    for item in run:
        if item is None:
            c.interrupted()
        else:
            c.tick(at(item))
    got = c.percent(at(start), at(start + length), now=None if now is None else at(now))
    assert got == reference(run, start, start + length, now)
    assert Decimal(0) <= got <= Decimal(100)


@given(st.lists(st.floats(min_value=0, max_value=3599, allow_nan=False), min_size=1, max_size=50))
def test_an_unbroken_session_spanning_the_window_is_complete_however_sparse(times: list[float]) -> None:
    c = ConnectedCompleteness()
    c.tick(at(-0.5))
    for t in times:
        c.tick(at(t))
    c.tick(at(3600))
    assert c.percent(at(0), at(3600)) == Decimal("100.00")
