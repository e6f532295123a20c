"""The kill switch's decision: what each level does given our open positions and open orders."""

from __future__ import annotations

from decimal import Decimal

import pytest

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
