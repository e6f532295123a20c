"""core.live_board: the operator's live view is the flow's own state of a window (routing, window
step, strategies), shown per instrument, and forgets a window when it ends."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from core.enums import Outcome, WindowPhase
from core.live_board import LiveBoard
from core.strategies import build_strategy
from core.window_engine import Desk, step
from tests.trading_builders import DOWN, START, UP, WINDOW, book, oracle, window

T60 = START + timedelta(seconds=240)


def _board() -> LiveBoard:
    return LiveBoard((build_strategy("canary", {}),))


def _fed(board: LiveBoard, *, until: timedelta) -> None:
    board.apply(window())
    board.apply(oracle(START, "100000"))  # the start print: the strike
    at = START + timedelta(seconds=1)
    while at <= START + until:
        board.apply(book(UP, at, "0.61", "0.62"))
        board.apply(book(DOWN, at, "0.38", "0.39"))
        board.apply(oracle(at, "100050"))
        at += timedelta(seconds=30)


def test_the_view_holds_both_books_the_reference_against_the_strike_and_time_left() -> None:
    board = _board()
    _fed(board, until=timedelta(seconds=100))
    [view] = board.view(START + timedelta(seconds=110))
    assert (view.instrument, view.window_id) == ("btc-5m", WINDOW)
    assert view.seconds_left == Decimal(190)
    assert view.up.best_bid == Decimal("0.61") and view.up.best_ask == Decimal("0.62")
    assert view.down.best_bid == Decimal("0.38") and view.down.best_ask == Decimal("0.39")
    assert view.strike == Decimal(100000) and view.reference_price == Decimal(100050)
    assert view.distance_bps == Decimal("5.00")
    assert view.favoured is Outcome.UP
    [canary] = view.strategies
    assert canary.would_signal is None and canary.last_signal is None, "T-190 s: the canary waits for T-60"


def test_a_strategy_signals_on_the_board_when_and_as_the_flows_step_decides() -> None:
    board = _board()
    _fed(board, until=timedelta(seconds=241))
    [view] = board.view(T60 + timedelta(seconds=5))
    [canary] = view.strategies
    assert canary.signals_in_window == 1 and canary.would_signal is None, "once per window"
    assert canary.last_signal is not None
    # the same events through the flow's own step, with the same strategy, decide the same signal
    desk = Desk(strategies=(build_strategy("canary", {}),))
    state, outputs = step(None, window(), desk)
    signals = []
    for item in [oracle(START, "100000")] + [
        e
        for s in range(1, 242, 30)
        for e in (
            book(UP, START + timedelta(seconds=s), "0.61", "0.62"),
            book(DOWN, START + timedelta(seconds=s), "0.38", "0.39"),
            oracle(START + timedelta(seconds=s), "100050"),
        )
    ]:
        state, outputs = step(state, item, desk)
        signals += [o for o in outputs if type(o).__name__ == "Signal"]
    assert signals == [canary.last_signal]


def test_a_window_is_forgotten_when_it_ends_or_resolves() -> None:
    board = _board()
    _fed(board, until=timedelta(seconds=100))
    assert board.window_count == 1
    board.apply(oracle(START + timedelta(seconds=300), "100010"))  # event time reaches the end
    assert board.window_count == 0 and board.view(START + timedelta(seconds=299)) == []
    board = _board()
    _fed(board, until=timedelta(seconds=100))
    board.apply(window(WindowPhase.RESOLVED, at=START + timedelta(seconds=150)))
    assert board.window_count == 0


def test_an_event_for_no_known_window_changes_nothing() -> None:
    board = _board()
    assert board.apply(book("9999", START, "0.5", "0.6")) is None
    assert board.view(START) == [] and board.applied == 1


def test_a_snapshot_read_before_its_windows_announcement_is_applied_once_the_window_is() -> None:
    board = _board()
    at = START + timedelta(seconds=5)
    board.apply(book(UP, at, "0.55", "0.57"))  # one consumer, several topics: md.book read first
    board.apply(window())
    [view] = board.view(at)
    assert view.up.best_bid == Decimal("0.55") and view.down.best_bid is None
