"""FLATTEN as an exit reason (core.positions) and the executor's kill-switch gate
(core.execution_guards.kill_switch_gate)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.enums import ExitReason, KillSwitch, PositionState
from core.execution_guards import Blocked, kill_switch_gate
from core.exits import EXIT_PRIORITY
from core.pnl import realized_pnl
from core.positions import (
    NEXT,
    EntryDone,
    EntryTrade,
    ExitOrdered,
    ExitTrade,
    HeldToResolution,
    InvalidTransition,
    Position,
    PositionTrigger,
    Resolved,
    Triggered,
    apply,
)

D = Decimal
S = PositionState
cents = st.integers(1, 99).map(lambda c: D(c) / 100)
shares = st.integers(100, 2000).map(lambda c: D(c) / 100)
fees = st.integers(0, 5000).map(lambda c: D(c) / 100000)


def test_every_level_but_run_refuses_entries() -> None:
    assert kill_switch_gate(KillSwitch.RUN) is None
    for level in (KillSwitch.PAUSE, KillSwitch.FLATTEN, KillSwitch.EMERGENCY):
        refused = kill_switch_gate(level)
        assert isinstance(refused, Blocked) and refused.rule == "kill_switch"
        assert level.value in refused.detail


def test_flatten_is_in_the_table_from_monitoring_only_and_not_a_decided_exit() -> None:
    sources = {state for (state, trigger) in NEXT if trigger is PositionTrigger.FLATTENED}
    assert sources == {S.MONITORING}
    assert NEXT[(S.MONITORING, PositionTrigger.FLATTENED)] is S.STOP_TRIGGERED
    assert ExitReason.FLATTEN not in EXIT_PRIORITY  # an operator's, never `decide_exit`'s


@settings(max_examples=300)
@given(
    entry_price=cents,
    exit_price=cents,
    size=shares,
    sold_part=st.integers(1, 100),
    entry_fee=fees,
    exit_fee=fees,
    held=st.booleans(),
)
def test_a_flatten_ends_closed_with_its_pnl_net_of_fees(
    entry_price: Decimal,
    exit_price: Decimal,
    size: Decimal,
    sold_part: int,
    entry_fee: Decimal,
    exit_fee: Decimal,
    held: bool,
) -> None:
    p = apply(Position("p"), EntryTrade("t1", size, entry_price, entry_fee, entry_price))
    p = apply(apply(p, EntryDone()), Triggered(ExitReason.FLATTEN))
    assert (p.state, p.exit_reason) == (S.STOP_TRIGGERED, ExitReason.FLATTEN)
    if held:  # no bids: held to resolution, recorded, and settled by the window
        p = apply(p, HeldToResolution("book_too_thin:no_bids"))
        assert p.state is S.EXIT_PENDING and p.held_to_resolution
        p = apply(p, Resolved(won=False))
        assert p.state is S.CLOSED
        assert realized_pnl(p).realized == -(size * entry_price) - entry_fee
        return
    p = apply(p, ExitOrdered("px-1"))
    first = (size * sold_part / 100).quantize(D("0.01"))
    if D(0) < first < size:
        p = apply(p, ExitTrade("t2", first, exit_price, D(0), exit_price))
        assert p.state is S.EXIT_PENDING
        with pytest.raises(InvalidTransition):  # nothing but its exit moves it now
            apply(p, Triggered(ExitReason.FLATTEN))
    p = apply(p, ExitTrade("t3", p.size, exit_price, exit_fee, exit_price))
    assert (p.state, p.size, p.exit_reason) == (S.CLOSED, D(0), ExitReason.FLATTEN)
    expected = size * exit_price - size * entry_price - entry_fee - exit_fee
    assert realized_pnl(p).realized == expected


@given(state=st.sampled_from([s for s in S if s is not S.MONITORING]))
def test_flatten_never_moves_a_position_that_is_not_monitoring(state: PositionState) -> None:
    with pytest.raises(InvalidTransition):
        apply(Position("p", state=state, size=D(1), entry_size=D(1)), Triggered(ExitReason.FLATTEN))
