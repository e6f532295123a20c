"""Per-window and per-token memory is dropped when windows end: many windows driven through their
lifecycle on an explicit clock leave discovery's phases, the de-duplicator's keys and the capture
rate's counters no bigger than the windows still live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.dedupe import Deduper, Verdict
from core.enums import WindowPhase
from core.feed_monitor import CaptureRate
from core.models import WindowEvent
from core.window_phases import WindowPhases, forget_at

T0 = datetime(2026, 6, 8, 8, 0, tzinfo=UTC)
CID = "0x" + "ab" * 32


def window(start: datetime, phase: WindowPhase, interval_s: int = 300, asset: str = "btc") -> WindowEvent:
    n = int(start.timestamp())
    return WindowEvent(
        window_id=f"{asset}-updown-5m-{n}",
        condition_id=f"0x{n:064x}",
        asset=asset,
        interval_s=interval_s,
        start_ts=start,
        end_ts=start + timedelta(seconds=interval_s),
        phase=phase,
        up_token_id=str(10**70 + 2 * n),
        down_token_id=str(10**70 + 2 * n + 1),
        source_ts=start,
        recv_ts=start,
    )


def lifecycle(w: WindowEvent, now: datetime) -> WindowPhase:
    """The phase Gamma shows at `now`: listed an interval ahead, resolved a minute after the end."""
    if now < w.start_ts:
        return WindowPhase.DISCOVERED
    if now < w.end_ts:
        return WindowPhase.OPEN
    if now < w.end_ts + timedelta(minutes=1):
        return WindowPhase.CLOSED
    return WindowPhase.RESOLVED


def test_discovery_phases_stay_bounded_over_a_day_of_windows() -> None:
    """A day of 5-minute windows polled every 5 s: the table holds the asked range, not the day."""
    table = WindowPhases(back=2)
    forgotten: list[str] = []
    biggest = 0
    for step in range(0, 24 * 3600, 5):
        now = T0 + timedelta(seconds=step)
        forgotten += [e.window_id for e in table.expire(now)]
        current = T0 + timedelta(seconds=step - step % 300)
        for k in range(-2, 2):  # what discovery asks Gamma for: 2 back, the current, the next
            start = current + timedelta(seconds=300 * k)
            if start < T0:
                continue
            base = window(start, WindowPhase.DISCOVERED)
            event = base.model_copy(update={"phase": lifecycle(base, now)})
            if table.is_news(event):
                if k == 1 and step % 3600 == 0 and table.needs_token_check(event):
                    table.mark_invalid(event)  # now and then the CLOB does not know a window
                else:
                    table.emitted(event)
        biggest = max(biggest, len(table))
    assert biggest <= 5
    assert len(forgotten) > 250
    assert len(forgotten) == len(set(forgotten)), "a window is forgotten once"


def test_a_window_is_kept_while_its_slug_is_asked_for_so_it_is_never_emitted_twice() -> None:
    table = WindowPhases(back=2)
    w = window(T0, WindowPhase.RESOLVED)
    table.emitted(w)
    assert table.expire(forget_at(w, 2) - timedelta(microseconds=1)) == []
    assert not table.is_news(w)
    assert table.expire(forget_at(w, 2)) == [w]
    assert len(table) == 0


def test_an_invalid_window_is_forgotten_too_but_not_reported_as_followed() -> None:
    table = WindowPhases(back=1)
    w = window(T0, WindowPhase.OPEN)
    table.mark_invalid(w)
    assert not table.is_news(w)
    assert table.expire(T0 + timedelta(seconds=600)) == []
    assert len(table) == 0


def test_forgetting_a_token_drops_every_out_of_order_key_it_had() -> None:
    d = Deduper(capacity=10)
    for kind in ("book", "price_change", "last_trade"):
        d.check(None, f"{kind}:tok:", T0 + timedelta(seconds=5), subject="tok")
    d.check(None, "book:other:", T0, subject="other")
    assert d.subjects == 2
    d.forget("tok")
    assert d.subjects == 1
    # the token's newest times are gone: an older event is no longer judged out of order
    assert d.check(None, "book:tok:", T0, subject="tok") is Verdict.NEW


@given(st.integers(min_value=1, max_value=300))
def test_dedupe_keys_shrink_back_after_windows_end(windows: int) -> None:
    d = Deduper(capacity=50)
    for n in range(windows):
        tokens = (f"up{n}", f"down{n}")
        for i, token in enumerate(tokens * 3):
            d.check(f"{n}-{i}", f"book:{token}:", T0 + timedelta(seconds=n), subject=token)
        for token in tokens:
            d.forget(token)
    assert d.subjects == 0 and len(d) <= 50


def test_capture_rates_are_reported_for_followed_tokens_only_and_unfollowed_ones_drop_out() -> None:
    rates = CaptureRate(span=timedelta(seconds=10))
    for n in range(1000):  # a thousand windows' tokens, each ticking once and then unfollowed
        rates.tick(f"tok{n}", T0 + timedelta(seconds=n))
    now = T0 + timedelta(seconds=1000)
    assert rates.rates(now, ["tok999", "new"]) == {"tok999": 0.1, "new": 0.0}
    assert rates.keys <= 10, "keys with no tick in the span are dropped"
    rates.forget("tok999")
    assert rates.rates(now, []) == {} and rates.keys <= 9


_PHASES = [WindowPhase.DISCOVERED, WindowPhase.OPEN, WindowPhase.CLOSED, WindowPhase.RESOLVED]


@given(
    st.lists(
        st.tuples(st.integers(0, 20), st.sampled_from(_PHASES), st.integers(0, 400), st.booleans()),
        max_size=300,
    )
)
def test_window_phases_only_move_forward_and_keep_nothing_past_its_time(
    steps: list[tuple[int, WindowPhase, int, bool]],
) -> None:
    """Random sightings of 21 windows on a clock that only moves forward."""
    table = WindowPhases(back=2)
    now = T0
    emitted: dict[str, list[WindowPhase]] = {}
    forgotten: set[str] = set()
    for index, phase, advance_s, refused in steps:
        now += timedelta(seconds=advance_s)
        forgotten |= {e.window_id for e in table.expire(now)}
        event = window(T0 + timedelta(seconds=300 * index), phase)
        if forget_at(event, 2) <= now:
            continue  # out of the asked range: discovery never asks for it again
        if not table.is_news(event):
            continue
        if refused and table.needs_token_check(event):
            table.mark_invalid(event)
            continue
        table.emitted(event)
        seen = emitted.setdefault(event.window_id, [])
        assert not seen or _PHASES.index(phase) > _PHASES.index(seen[-1])
        seen.append(phase)
    forgotten |= {e.window_id for e in table.expire(now)}
    in_range = {
        w.window_id
        for w in (window(T0 + timedelta(seconds=300 * i), WindowPhase.OPEN) for i in range(21))
        if forget_at(w, 2) > now
    }
    assert set(table.phases) | set(table.invalid) <= in_range
    assert forgotten <= set(emitted) and forgotten.isdisjoint(in_range)
