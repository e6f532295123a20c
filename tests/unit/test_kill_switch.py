"""The kill switch's decision: what each level does given our open positions and open orders."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.enums import KillSwitch, PositionState, Side
from core.kill_switch import FlattenExit, HeldPosition, OurOrder, plan

POSITIONS = (
    HeldPosition("p1", "111", Decimal("5"), PositionState.MONITORING),
    HeldPosition("p2", "222", Decimal("0"), PositionState.CLOSED),
    HeldPosition("p3", "333", Decimal("2.5"), PositionState.EXIT_PENDING),
    HeldPosition("p4", "444", Decimal("0"), PositionState.ENTRY),
)
ORDERS = (OurOrder("0xa", "111", Side.BUY), OurOrder("0xb", "333", Side.SELL))


def test_run_trades_and_touches_nothing() -> None:
    p = plan(KillSwitch.RUN, POSITIONS, ORDERS)
    assert p.accept_entries and p.accept_intents
    assert not p.exits and not p.cancel_order_ids and not p.cancel_all and not p.open_breaker
    assert p.then is None


def test_pause_refuses_entries_and_touches_nothing() -> None:
    p = plan(KillSwitch.PAUSE, POSITIONS, ORDERS)
    assert not p.accept_entries and p.accept_intents
    assert not p.exits and not p.cancel_order_ids and not p.cancel_all and not p.open_breaker


def test_flatten_cancels_ours_sells_every_held_position_then_pauses() -> None:
    p = plan(KillSwitch.FLATTEN, POSITIONS, ORDERS)
    assert not p.accept_entries and p.accept_intents
    assert p.cancel_order_ids == ("0xa", "0xb") and not p.cancel_all
    assert p.exits == (FlattenExit("p1", "111", Decimal("5")), FlattenExit("p3", "333", Decimal("2.5")))
    assert p.then is KillSwitch.PAUSE and not p.open_breaker


def test_emergency_cancels_everything_flattens_opens_the_breaker_and_stops_intake() -> None:
    p = plan(KillSwitch.EMERGENCY, POSITIONS, ORDERS)
    assert not p.accept_entries and not p.accept_intents
    assert p.cancel_all and p.open_breaker
    assert [e.position_id for e in p.exits] == ["p1", "p3"]
    assert p.then is None, "EMERGENCY stays until an operator acts"


@pytest.mark.parametrize("switch", list(KillSwitch))
def test_cancels_come_before_exits_in_the_steps(switch: KillSwitch) -> None:
    p = plan(switch, POSITIONS, ORDERS)
    kinds = [type(step).__name__ for step in p.steps()]
    assert kinds == sorted(kinds, key=lambda k: {"CancelAll": 0, "CancelOrders": 0}.get(k, 1))


positions_st = st.lists(
    st.builds(
        HeldPosition,
        position_id=st.uuids().map(str),
        token_id=st.sampled_from(["1", "2", "3"]),
        size=st.decimals(min_value=0, max_value=100, places=2),
        state=st.sampled_from(list(PositionState)),
    ),
    max_size=6,
)
orders_st = st.lists(
    st.builds(
        OurOrder,
        venue_order_id=st.uuids().map(lambda u: "0x" + u.hex),
        token_id=st.sampled_from(["1", "2"]),
        side=st.sampled_from(list(Side)),
    ),
    max_size=4,
)


@given(positions_st, orders_st)
def test_every_level_exits_exactly_the_held_positions_or_none(
    positions: list[HeldPosition], orders: list[OurOrder]
) -> None:
    held = {p.position_id for p in positions if p.state is not PositionState.CLOSED and p.size > 0}
    for switch in KillSwitch:
        p = plan(switch, positions, orders)
        exited = {e.position_id for e in p.exits}
        assert exited == (held if switch in (KillSwitch.FLATTEN, KillSwitch.EMERGENCY) else set())
        assert all(e.size > 0 for e in p.exits)
        assert p.accept_entries == (switch is KillSwitch.RUN)
        assert p.open_breaker == (switch is KillSwitch.EMERGENCY) == (not p.accept_intents)
