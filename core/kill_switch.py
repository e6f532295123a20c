"""What each kill-switch level does, given our open positions and open orders (DESIGN.md "Safety").

- RUN: trade.
- PAUSE: no new entries; intents are still taken (exits of open positions go on).
- FLATTEN: cancel our open orders (a resting entry could still add exposure, a resting exit holds the
  shares the flatten must sell), exit every held position now with a FAK sell of its whole size,
  then go to PAUSE.
- EMERGENCY: cancel every open order of the account at the venue (ours or not, known or not), exit
  what can be exited, open the circuit breaker, stop taking intents. It stays until an operator acts.

Cancels come before exits (`KillPlan.steps`). A flatten exit that finds no bids is not an error of
the plan: the adapter reports it as not flattened (held to resolution), never hides it.
Pure: positions and orders are arguments; the adapter does the venue calls.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from core.enums import KillSwitch, PositionState, Side

__all__ = ["CancelAll", "CancelOrders", "FlattenExit", "HeldPosition", "KillPlan", "OurOrder", "plan"]


@dataclass(frozen=True, slots=True)
class HeldPosition:
    position_id: str
    token_id: str
    size: Decimal
    state: PositionState


@dataclass(frozen=True, slots=True)
class OurOrder:
    """One of our orders the venue may still hold (LIVE, PARTIALLY_FILLED, UNKNOWN)."""

    venue_order_id: str
    token_id: str
    side: Side


@dataclass(frozen=True, slots=True)
class FlattenExit:
    """Sell `size` shares of `token_id` now (FAK): the whole of what `position_id` holds."""

    position_id: str
    token_id: str
    size: Decimal


@dataclass(frozen=True, slots=True)
class CancelAll:
    """Cancel every open order of the account at the venue."""


@dataclass(frozen=True, slots=True)
class CancelOrders:
    venue_order_ids: tuple[str, ...]


KillStep = CancelAll | CancelOrders | FlattenExit


@dataclass(frozen=True, slots=True)
class KillPlan:
    switch: KillSwitch
    accept_entries: bool
    accept_intents: bool
    cancel_all: bool = False
    cancel_order_ids: tuple[str, ...] = ()
    exits: tuple[FlattenExit, ...] = ()
    open_breaker: bool = False
    then: KillSwitch | None = None
    """The level to set once the steps are done (FLATTEN -> PAUSE); None: leave it."""

    def steps(self) -> tuple[KillStep, ...]:
        """The venue calls in order: cancels first, then the exits."""
        cancels: tuple[KillStep, ...] = ()
        if self.cancel_all:
            cancels = (CancelAll(),)
        elif self.cancel_order_ids:
            cancels = (CancelOrders(self.cancel_order_ids),)
        return cancels + self.exits


def _exits(positions: Iterable[HeldPosition]) -> tuple[FlattenExit, ...]:
    return tuple(
        FlattenExit(p.position_id, p.token_id, p.size)
        for p in positions
        if p.state is not PositionState.CLOSED and p.size > 0
    )


def plan(switch: KillSwitch, positions: Iterable[HeldPosition], orders: Iterable[OurOrder]) -> KillPlan:
    """What `switch` asks for now, given our positions and our open orders."""
    if switch is KillSwitch.RUN:
        return KillPlan(switch, accept_entries=True, accept_intents=True)
    if switch is KillSwitch.PAUSE:
        return KillPlan(switch, accept_entries=False, accept_intents=True)
    exits = _exits(positions)
    if switch is KillSwitch.FLATTEN:
        ids = tuple(o.venue_order_id for o in orders)
        return KillPlan(
            switch,
            accept_entries=False,
            accept_intents=True,
            cancel_order_ids=ids,
            exits=exits,
            then=KillSwitch.PAUSE,
        )
    return KillPlan(
        switch, accept_entries=False, accept_intents=False, cancel_all=True, exits=exits, open_breaker=True
    )
