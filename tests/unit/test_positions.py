"""core.positions: the lifecycle table holds under any sequence of events."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.enums import ExitReason, PositionState
from core.positions import (
    NEXT,
    EntryDone,
    EntryTrade,
    ExitOrdered,
    ExitTrade,
    HeldToResolution,
    InvalidTransition,
    Mark,
    Position,
    PositionEvent,
    Redeemed,
    Resolved,
    Triggered,
    apply,
    trigger_of,
)

D = Decimal
S = PositionState


def _entered(size: str = "10", price: str = "0.50", fee: str = "0.0175") -> Position:
    p = apply(Position("pos-1"), EntryTrade("t1", D(size), D(price), D(fee), D("0.49")))
    return apply(p, EntryDone())


def test_the_table_leaves_exit_pending_only_for_closed_and_closed_never() -> None:
    for (state, _), target in NEXT.items():
        assert state is not S.CLOSED
        if state is S.EXIT_PENDING:
            assert target in (S.EXIT_PENDING, S.CLOSED)


def test_the_happy_path_to_closed_by_an_exit_order() -> None:
    p = _entered()
    assert (p.state, p.size, p.avg_entry_price) == (S.MONITORING, D("10"), D("0.5"))
    assert p.entry_slippage == D("0.10")  # 10 shares at 0.50 against 0.49 intended
    p = apply(p, Triggered(ExitReason.STOP_LOSS))
    assert p.state is S.STOP_TRIGGERED
    p = apply(p, ExitOrdered("pw-exit-1"))
    p = apply(p, ExitTrade("t2", D("4"), D("0.44"), D("0.01"), D("0.45")))
    assert (p.state, p.size) == (S.EXIT_PENDING, D("6"))
    p = apply(p, ExitTrade("t3", D("6"), D("0.43"), D("0.01"), D("0.45")))
    assert (p.state, p.size, p.exit_proceeds) == (S.CLOSED, D("0"), D("4.34"))
    assert p.exit_slippage == D("0.16")


def test_a_thin_book_is_recorded_as_held_to_resolution_and_a_win_closes_on_redemption() -> None:
    p = apply(apply(_entered(), Triggered(ExitReason.EXPIRY)), HeldToResolution("book_too_thin:no_match"))
    assert (p.state, p.held_to_resolution, p.hold_reason) == (S.EXIT_PENDING, True, "book_too_thin:no_match")
    p = apply(p, Resolved(won=True))
    assert (p.state, p.payout_due) == (S.EXIT_PENDING, D("10"))  # won, not yet in the balance
    with pytest.raises(InvalidTransition):
        apply(p, Redeemed(D("9")))
    p = apply(p, Redeemed(D("10")))
    assert (p.state, p.payout, p.size, p.payout_due) == (S.CLOSED, D("10"), D("0"), D("0"))


def test_a_loss_closes_at_resolution() -> None:
    p = apply(apply(_entered(), Triggered(ExitReason.EXPIRY)), HeldToResolution("window_ended"))
    p = apply(p, Resolved(won=False))
    assert (p.state, p.size, p.payout) == (S.CLOSED, D("0"), D("0"))


def test_an_entry_that_filled_nothing_closes() -> None:
    assert apply(Position("pos-1"), EntryDone()).state is S.CLOSED


def test_a_repeated_trade_is_applied_once() -> None:
    p = apply(Position("pos-1"), EntryTrade("t1", D("5"), D("0.5"), D("0"), D("0.5")))
    assert apply(p, EntryTrade("t1", D("5"), D("0.5"), D("0"), D("0.5"))) is p


@pytest.mark.parametrize(
    "event",
    [Mark(D("0.5")), Triggered(ExitReason.STOP_LOSS), EntryTrade("t9", D("1"), D("0.5"), D("0"), D("0.5"))],
)
def test_nothing_but_its_exit_touches_an_exit_pending_position(event: PositionEvent) -> None:
    p = apply(apply(_entered(), Triggered(ExitReason.TAKE_PROFIT)), ExitOrdered("pw-exit-1"))
    with pytest.raises(InvalidTransition):
        apply(p, event)


def test_an_exit_larger_than_the_position_is_refused() -> None:
    p = apply(apply(_entered(), Triggered(ExitReason.TAKE_PROFIT)), ExitOrdered("x"))
    with pytest.raises(InvalidTransition):
        apply(p, ExitTrade("t2", D("11"), D("0.6"), D("0"), D("0.6")))


prices = st.integers(1, 99).map(lambda c: D(c) / 100)
sizes = st.integers(1, 2000).map(lambda c: D(c) / 100)
trade_ids = st.sampled_from([f"t{i}" for i in range(12)])
events: st.SearchStrategy[PositionEvent] = st.one_of(
    st.builds(EntryTrade, trade_ids, sizes, prices, st.just(D("0.01")), prices),
    st.just(EntryDone()),
    st.builds(Mark, prices),
    st.builds(Triggered, st.sampled_from(ExitReason)),
    st.builds(ExitOrdered, st.just("pw-exit")),
    st.builds(HeldToResolution, st.just("book_too_thin")),
    st.builds(ExitTrade, trade_ids, sizes, prices, st.just(D("0.01")), prices),
    st.builds(Resolved, st.booleans()),
    st.builds(Redeemed, sizes),
)


@st.composite
def lifecycles(draw: st.DrawFn) -> list[PositionEvent]:
    """A plausible life (entry trades, marks, a trigger, an exit or a hold, exit trades, resolution,
    redemption) with random events mixed in anywhere, so deep states are reached as often as not."""
    entry = st.builds(EntryTrade, trade_ids, sizes, prices, st.just(D("0.01")), prices)
    path: list[PositionEvent] = draw(st.lists(entry, min_size=1, max_size=3))
    path.append(EntryDone())
    path += draw(st.lists(st.builds(Mark, prices), max_size=3))
    path.append(draw(st.builds(Triggered, st.sampled_from(ExitReason))))
    exit_or_hold: list[PositionEvent] = [ExitOrdered("pw-exit"), HeldToResolution("book_too_thin")]
    path.append(draw(st.sampled_from(exit_or_hold)))
    exit_ = st.builds(ExitTrade, trade_ids, sizes, prices, st.just(D("0.01")), prices)
    path += draw(st.lists(exit_, max_size=3))
    path.append(draw(st.builds(Resolved, st.booleans())))
    path.append(draw(st.builds(Redeemed, sizes)))
    noise = draw(st.lists(events, max_size=6))
    mixed: list[PositionEvent] = []
    for item in noise:
        cut = draw(st.integers(0, len(path)))
        mixed += [*path[:cut], item]
        path = path[cut:]
    return mixed + path


@settings(max_examples=400)
@given(st.one_of(st.lists(events, max_size=40), lifecycles()))
def test_random_event_sequences_never_break_the_invariants(seq: list[PositionEvent]) -> None:
    p = Position("pos-1")
    for event in seq:
        before = p
        try:
            p = apply(p, event)
        except InvalidTransition:
            assert (before.state, trigger_of(before, event)) not in NEXT or isinstance(
                event, ExitTrade | Redeemed
            )
            continue
        if p is before:  # a repeated trade id
            continue
        assert p.state is NEXT[(before.state, trigger_of(before, event))]
        if before.state is S.EXIT_PENDING:
            assert p.state in (S.EXIT_PENDING, S.CLOSED)
        if before.held_to_resolution:
            assert p.held_to_resolution
        assert p.size >= 0
        if p.state in (S.EXIT_PENDING, S.STOP_TRIGGERED, S.TP_TRIGGERED, S.EXPIRY):
            assert p.exit_reason is not None
        if p.state is S.CLOSED:
            assert p.size == 0
        if p.won is None:
            assert p.size == p.entry_size - p.exit_size
        assert isinstance(p.entry_cost, Decimal) and isinstance(p.exit_proceeds, Decimal)
    if p.state is S.CLOSED:
        for event in seq:
            if isinstance(event, EntryTrade | ExitTrade) and event.trade_id in p.trade_ids:
                continue
            with pytest.raises(InvalidTransition):
                apply(p, event)
