"""The loader: events reach only their window, never before its start; windows are forgotten."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from core.enums import Outcome, WindowPhase
from core.ids import ConditionId
from core.models import BookSnapshot, OracleTick, WindowEvent
from core.routing import ControlsUpdate, Expire, RouterInput, WindowRouter, admits, route_keys
from core.window_engine import Desk, step
from core.window_state import WindowState
from tests.trading_builders import DOWN, START, UP, WINDOW, book, oracle, snapshot, window


def test_book_events_go_to_the_window_of_their_token_even_before_its_start() -> None:
    """The market socket subscribes before the start: its snapshot is the book the window opens with."""
    router = WindowRouter()
    router.route(window())
    early = router.route(book(UP, START - timedelta(milliseconds=1), "0.5", "0.6"))
    assert [w for w, _ in early.routed] == [WINDOW] and early.before_start == 0
    on_time = router.route(book(DOWN, START, "0.5", "0.6"))
    assert [w for w, _ in on_time.routed] == [WINDOW]
    assert router.route(book("999", START, "0.5", "0.6")).routed == []


def test_oracle_ticks_go_to_every_window_of_the_asset() -> None:
    router = WindowRouter()
    router.route(window())
    router.route(window(window_id="btc-updown-15m-x", up="3", down="4", interval_s=900))
    router.route(window(window_id="eth-updown-5m-x", up="5", down="6", asset="eth"))
    routed = router.route(oracle(START + timedelta(seconds=1), "100")).routed
    assert sorted(w for w, _ in routed) == ["btc-updown-15m-x", WINDOW]


def test_a_resolved_window_is_forgotten_by_the_router() -> None:
    router = WindowRouter()
    router.route(window())
    router.route(window(WindowPhase.RESOLVED, at=START + timedelta(seconds=330)))
    assert router.live_windows == frozenset()
    assert router.route(book(UP, START + timedelta(seconds=340), "0.5", "0.6")).routed == []


def test_a_window_announced_again_with_other_tokens_routes_only_the_new_ones_and_never_crashes() -> None:
    """Seen on a shared test broker: the same window id from two simulator runs with other token ids.
    The old tokens pointed at a forgotten window and the next book for one raised KeyError."""
    router = WindowRouter()
    router.route(window())
    router.route(window(up="7", down="8"))
    at = START + timedelta(seconds=1)
    assert router.route(book(UP, at, "0.5", "0.6")).routed == []
    assert [w for w, _ in router.route(book("7", at, "0.5", "0.6")).routed] == [WINDOW]
    router.route(window(WindowPhase.RESOLVED, at=START + timedelta(seconds=330)))
    for token in (UP, DOWN, "7", "8"):
        assert router.route(book(token, START + timedelta(seconds=340), "0.5", "0.6")).routed == []


def test_a_window_whose_resolution_never_comes_expires() -> None:
    router = WindowRouter(retain_after_end=timedelta(minutes=10))
    router.route(window())
    later = window(window_id="btc-updown-5m-later", up="7", down="8", start=START + timedelta(hours=1))
    result = router.route(later)
    assert (WINDOW, Expire(later.source_ts)) in result.routed
    assert router.live_windows == {later.window_id}


def test_a_window_gets_the_current_controls_with_its_next_market_data_only_when_they_moved() -> None:
    router = WindowRouter()
    router.route(window())
    router.route(snapshot(START))
    at = START + timedelta(seconds=1)
    first = router.route(book(UP, at, "0.5", "0.6")).routed
    assert [(w, type(i)) for w, i in first] == [(WINDOW, ControlsUpdate), (WINDOW, BookSnapshot)]
    assert [type(i) for _, i in router.route(book(DOWN, at, "0.5", "0.6")).routed] == [BookSnapshot]
    router.route(snapshot(at))
    again = router.route(oracle(at, "100")).routed
    assert [type(i) for _, i in again] == [ControlsUpdate, OracleTick]
    assert again[0][1].controls.as_of == at  # type: ignore[union-attr]


def test_a_controls_read_costs_nothing_per_live_window() -> None:
    """Seen in full test runs with two workers: every table read (5 a second) went to every live
    window on the shared broker's md.windows, thousands of items a second, and the flow fell behind
    until decisions came too late. Controls now travel with each window's next market data."""
    router = WindowRouter()
    for n in range(1000):
        router.route(window(window_id=f"btc-updown-5m-many{n}", up=f"7{n}", down=f"8{n}"))
    assert router.route(snapshot(START)).routed == []


def test_a_bad_control_value_is_a_problem_not_a_silent_drop() -> None:
    router = WindowRouter()
    assert router.route(snapshot(START, kill_switch="GO")).problem is not None


@settings(max_examples=200, deadline=None)
@given(offsets=st.lists(st.integers(min_value=-120_000, max_value=120_000), min_size=1, max_size=30))
def test_no_print_stamped_before_the_start_reaches_the_window_state(offsets: list[int]) -> None:
    router = WindowRouter()
    state: WindowState | None = None
    for routed_id, item in router.route(window()).routed:
        assert routed_id == WINDOW
        state, _ = step(state, item, Desk(strategies=()))
    assert state is not None
    for ms in offsets:
        at = START + timedelta(milliseconds=ms)
        for event in (oracle(at, str(1000 + ms % 7)), book(UP, at, "0.4", "0.5")):
            for _, item in router.route(event).routed:
                if isinstance(item, OracleTick):  # prints before the start never reach it; books do
                    assert admits(START, item.source_ts)
                state, _ = step(state, item, Desk(strategies=()))
    assert state is not None
    assert state.reference_ts is None or state.reference_ts >= START
    assert state.best_ask(Outcome.UP) is not None


_CONDITIONS = [ConditionId("0x" + f"{i + 1:02x}" * 32) for i in range(6)]


def _nth_window(i: int, phase: WindowPhase, at_s: int) -> WindowEvent:
    start = START + timedelta(seconds=300 * (i % 3))
    event = window(
        phase,
        start=start,
        window_id=f"{('btc', 'eth')[i % 2]}-updown-5m-w{i}",
        up=f"{i}1",
        down=f"{i}2",
        asset=("btc", "eth")[i % 2],
        at=START + timedelta(seconds=at_s),
    )
    return event.model_copy(update={"condition_id": _CONDITIONS[i]})


def _nth_book(i: int, side: int, at_s: int, mismatched: bool) -> RouterInput:
    event = book(f"{i}{side}", START + timedelta(seconds=at_s), "0.4", "0.5")
    return event.model_copy(update={"condition_id": _CONDITIONS[(i + mismatched) % 6]})


_INPUT = st.one_of(
    st.builds(lambda i, s: _nth_window(i, WindowPhase.OPEN, s), st.integers(0, 5), st.integers(-60, 4000)),
    st.builds(lambda i, s: _nth_window(i, WindowPhase.RESOLVED, s), st.integers(0, 5), st.integers(0, 9000)),
    st.builds(_nth_book, st.integers(0, 5), st.sampled_from([1, 2]), st.integers(-60, 900), st.booleans()),
    st.builds(
        lambda s, sym: oracle(START + timedelta(seconds=s), "100", symbol=sym),
        st.integers(-60, 900),
        st.sampled_from(["btc/usd", "eth/usd"]),
    ),
    st.builds(lambda s: snapshot(START + timedelta(seconds=s)), st.integers(0, 900)),
    st.builds(lambda s: snapshot(START + timedelta(seconds=s), kill_switch="GO"), st.integers(0, 900)),
)


@settings(max_examples=300, deadline=None)
@given(events=st.lists(_INPUT, max_size=60), buckets=st.integers(1, 5))
def test_partitioned_routing_routes_exactly_as_one_router(events: list[RouterInput], buckets: int) -> None:
    """Every window gets from its one bucket the very sequence the single router gives it, and
    problems and early-data counts are the same (each reported once)."""
    one = WindowRouter(retain_after_end=timedelta(minutes=20))
    parts = [WindowRouter(timedelta(minutes=20), b, buckets) for b in range(buckets)]
    single: dict[str, list[object]] = {}
    split: dict[str, list[object]] = {}
    sources: dict[str, set[int]] = {}
    problems: tuple[list[str], list[str]] = ([], [])
    early = [0, 0]
    for event in events:
        result = one.route(event)
        for w, item in result.routed:
            single.setdefault(w, []).append(item)
        problems[0].extend([result.problem] if result.problem else [])
        early[0] += result.before_start
        for b in route_keys(event, buckets):
            part = parts[b].route(event)
            for w, item in part.routed:
                split.setdefault(w, []).append(item)
                sources.setdefault(w, set()).add(b)
            problems[1].extend([part.problem] if part.problem else [])
            early[1] += part.before_start
    assert split == single
    assert all(len(bs) == 1 for bs in sources.values())
    assert problems[0] == problems[1] and early[0] == early[1]


def test_a_book_naming_another_market_than_its_tokens_window_is_a_problem() -> None:
    router = WindowRouter()
    router.route(window())
    result = router.route(book(UP, START, "0.5", "0.6").model_copy(update={"condition_id": _CONDITIONS[0]}))
    assert result.routed == [] and result.problem is not None


def _shifted_window(i: int, phase: WindowPhase, shift: int, at_steps: int) -> WindowEvent:
    """Window i, possibly announced again with another start (so another end), at a 5-minute step."""
    event = _nth_window(i, phase, 300 * at_steps)
    moved = timedelta(seconds=300 * shift)
    return event.model_copy(update={"start_ts": event.start_ts + moved, "end_ts": event.end_ts + moved})


_WINDOWS = st.builds(
    _shifted_window,
    st.integers(0, 5),
    st.sampled_from([WindowPhase.OPEN, WindowPhase.OPEN, WindowPhase.RESOLVED]),
    st.integers(0, 2),
    st.integers(0, 15),
)


@settings(max_examples=300, deadline=None)
@given(events=st.lists(_WINDOWS, max_size=40))
def test_the_live_windows_are_the_announced_unresolved_ones_not_past_the_retention(
    events: list[WindowEvent],
) -> None:
    retain = timedelta(minutes=20)
    router = WindowRouter(retain_after_end=retain)
    live: dict[str, WindowEvent] = {}
    for event in events:
        router.route(event)
        if event.phase is WindowPhase.RESOLVED:
            live.pop(event.window_id, None)
        else:
            live[event.window_id] = event
        live = {w: e for w, e in live.items() if e.end_ts >= event.source_ts - retain}
        assert router.live_windows == set(live)


def test_a_snapshot_read_before_its_windows_announcement_reaches_the_window_with_it() -> None:
    """A flow started after `feeds` reads md.book and md.windows from the earliest through one
    consumer: a market's first snapshot may come before its window; without it the book stays
    unsynced (only deltas follow) and nothing trades."""
    router = WindowRouter()
    early = book(UP, START + timedelta(seconds=5), "0.55", "0.57")
    assert router.route(early).routed == []
    announced = window(at=START + timedelta(seconds=6))
    assert router.route(announced).routed == [(WINDOW, announced), (WINDOW, early)]
    assert router.route(window(at=START + timedelta(seconds=7))).routed[1:] == [], "once"
