"""Backoff, de-duplication, feed gaps, completeness, capture rate and clock samples (pure core)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.backoff import Backoff
from core.clock import one_way_sample, round_trip_sample
from core.dedupe import Deduper, Verdict
from core.feed_monitor import CaptureRate, Completeness, FeedMonitor, GapClosed

T0 = datetime(2026, 6, 8, 8, 15, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


# -- backoff -----------------------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=10_000), st.floats(min_value=0, max_value=1, exclude_max=True))
def test_backoff_delay_stays_within_zero_and_the_capped_ceiling(attempt: int, draw: float) -> None:
    backoff = Backoff(base_s=0.1, cap_s=5.0)
    delay = backoff.delay(attempt, lambda: draw)
    assert 0 <= delay < 5.0 or (delay == 0 and draw == 0)
    assert delay <= backoff.ceiling(attempt) <= 5.0


def test_backoff_ceiling_doubles_until_the_cap() -> None:
    backoff = Backoff(base_s=0.25, cap_s=2.0)
    assert [backoff.ceiling(n) for n in range(6)] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


def test_backoff_full_jitter_uses_the_random_draw() -> None:
    rng = random.Random(3)
    delays = [Backoff(base_s=1, cap_s=1).delay(0, rng.random) for _ in range(200)]
    assert min(delays) < 0.1 and max(delays) > 0.9


@pytest.mark.parametrize("draw", [-0.1, 1.0, 2.0])
def test_backoff_refuses_a_draw_outside_the_unit_interval(draw: float) -> None:
    with pytest.raises(ValueError):
        Backoff().delay(0, lambda: draw)


def test_backoff_refuses_a_cap_below_the_base() -> None:
    with pytest.raises(ValueError):
        Backoff(base_s=2, cap_s=1)


# -- dedupe ------------------------------------------------------------------------------------------


def test_dedupe_drops_a_repeated_id_and_counts_a_late_event() -> None:
    d = Deduper(capacity=10)
    assert d.check("a", "tok", at(1)) is Verdict.NEW
    assert d.check("a", "tok", at(1)) is Verdict.DUPLICATE
    assert d.check("b", "tok", at(0.5)) is Verdict.OUT_OF_ORDER
    assert d.check("c", "other", at(0.5)) is Verdict.NEW
    assert d.check(None, "tok", at(2)) is Verdict.NEW
    assert d.counts == {Verdict.NEW: 3, Verdict.DUPLICATE: 1, Verdict.OUT_OF_ORDER: 1}


def test_dedupe_forgets_the_oldest_ids_past_capacity() -> None:
    d = Deduper(capacity=2)
    for name in "abc":
        d.check(name, "k", at(1))
    assert len(d) == 2
    assert d.check("a", "k", at(1)) is Verdict.NEW
    assert d.check("c", "k", at(1)) is Verdict.DUPLICATE


@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 50)), max_size=200))
def test_dedupe_never_passes_an_id_twice_within_capacity(events: list[tuple[int, int]]) -> None:
    d = Deduper(capacity=1000)
    passed: list[str] = []
    for ident, second in events:
        if d.check(str(ident), "k", at(second)) is not Verdict.DUPLICATE:
            passed.append(str(ident))
    assert len(passed) == len(set(passed))
    assert set(passed) == {str(i) for i, _ in events}


# -- feed monitor ------------------------------------------------------------------------------------


def test_silence_longer_than_threshold_opens_a_gap_from_the_last_tick() -> None:
    m = FeedMonitor("market", at(0), timedelta(seconds=5))
    assert m.tick(at(1)) is None
    assert m.check(at(6)) is None
    opened = m.check(at(6.1))
    assert opened is not None and opened.started_at == at(1) and opened.detected_at == at(6.1)
    assert m.check(at(9)) is None
    assert m.tick(at(9.5)) == GapClosed("market", at(1), at(9.5))
    assert m.tick(at(9.6)) is None


def test_a_disconnect_opens_a_gap_at_once_even_without_a_silence_threshold() -> None:
    m = FeedMonitor("user", at(0), None)
    m.tick(at(2))
    assert m.check(at(500)) is None
    opened = m.disconnected(at(3), "closed 1012")
    assert opened is not None and opened.started_at == at(2)
    assert m.disconnected(at(4), "again") is None
    assert m.tick(at(7)) == GapClosed("user", at(2), at(7))


def test_a_feed_that_never_ticks_opens_a_gap_from_its_start() -> None:
    m = FeedMonitor("rtds", at(0), timedelta(seconds=1))
    opened = m.check(at(2))
    assert opened is not None and opened.started_at == at(0)


@given(st.lists(st.floats(min_value=0, max_value=100), min_size=1, max_size=60).map(sorted))
def test_gaps_alternate_open_close_and_never_end_before_they_start(times: list[float]) -> None:
    m = FeedMonitor("f", at(0), timedelta(seconds=5))
    open_now = False
    for t in times:
        if m.check(at(t)) is not None:
            assert not open_now
            open_now = True
        closed = m.tick(at(t))
        if closed is not None:
            assert open_now and closed.ended_at >= closed.started_at
            open_now = False


def test_completeness_counts_seconds_with_a_tick() -> None:
    c = Completeness()
    for s in (0.1, 0.9, 1.5, 3.2, 9.99, 10.0):
        c.tick(at(s))
    assert c.percent(at(0), at(10)) == Decimal("40.00")
    assert c.percent(at(10), at(12)) == Decimal("50.00")
    with pytest.raises(ValueError):
        c.percent(at(5), at(5))


def test_completeness_forgets_seconds_past_its_horizon() -> None:
    c = Completeness(keep=timedelta(seconds=10))
    c.tick(at(0))
    c.tick(at(100))
    assert c.percent(at(0), at(1)) == Decimal("0.00")


def test_capture_rate_is_ticks_per_second_over_the_span() -> None:
    r = CaptureRate(span=timedelta(seconds=10))
    for i in range(50):
        r.tick("tok", at(i * 0.2))
    assert r.rate("tok", at(9.8)) == pytest.approx(5.0)
    assert r.rate("tok", at(100)) == 0.0
    assert r.rate("unknown", at(1)) == 0.0


# -- clock -------------------------------------------------------------------------------------------


def test_round_trip_offset_assumes_the_server_read_half_way() -> None:
    sample = round_trip_sample("clob", at(10), at(10.2), at(12.1), timedelta(seconds=1))
    assert sample.rtt_ms == pytest.approx(200)
    assert sample.offset_ms == pytest.approx(2000)
    with pytest.raises(ValueError):
        round_trip_sample("clob", at(10), at(9), at(10), timedelta(seconds=1))


def test_one_way_offset_is_the_stamp_minus_our_receive_time() -> None:
    sample = one_way_sample("rtds", at(5), at(5.25), timedelta(milliseconds=1))
    assert sample.offset_ms == pytest.approx(-250) and sample.rtt is None
