"""Carry out a kill-switch level: the plan from `core.kill_switch`, the cancels through the mode's
`Cancels` (LIVE: the venue, through py-clob-client-v2; the simulated modes: our own records, since
nothing of theirs rests anywhere else: `execution.fill_sources`), the exits through the executor's
one exit path, the breaker and the control in PostgreSQL.

`KillSwitchRunner.carry_out(switch, positions, orders, now)` opens the breaker on EMERGENCY, cancels
(our orders for FLATTEN, the account's every order for EMERGENCY), settles what the cancels changed
(`settle`: the order manager's recovery, so a cancelled entry's position is MONITORING with what
filled, or CLOSED), exits each held position (`flatten`: `execution.exits.ExitManager.flatten`
through the mode's fill source, so the sell, its fills, the position through EXIT_PENDING to CLOSED
and the audit entry are in our rows) and sets FLATTEN back to PAUSE once done. A position the book
cannot take is reported as not flattened (held to resolution, which the exit path records).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

import psycopg
import structlog

from core.enums import KillSwitch
from core.kill_switch import CancelAll, CancelOrders, FlattenExit, HeldPosition, KillPlan, OurOrder, plan
from sinks.postgres.safety import open_breaker, set_kill_switch

__all__ = ["Cancels", "ExitResult", "Flatten", "KillReport", "KillSwitchRunner"]

log = structlog.get_logger(__name__)


class Cancels(Protocol):
    """The mode's cancels: each returns (ids cancelled, {id: why not})."""

    def cancel_all(self) -> tuple[list[str], dict[str, str]]: ...
    def cancel_orders(self, venue_order_ids: list[str]) -> tuple[list[str], dict[str, str]]: ...


@dataclass(frozen=True, slots=True)
class ExitResult:
    position_id: str
    token_id: str
    requested: Decimal
    sold: Decimal
    venue_order_id: str = ""
    detail: str = ""

    @property
    def flattened(self) -> bool:
        return self.sold == self.requested


Flatten = Callable[[FlattenExit, KillSwitch, datetime], ExitResult]
"""Exit one held position now (the executor's exit path); what it sold, in the fills' numbers."""


@dataclass(frozen=True, slots=True)
class KillReport:
    plan: KillPlan
    canceled: tuple[str, ...] = ()
    not_canceled: dict[str, str] = field(default_factory=dict)
    exits: tuple[ExitResult, ...] = ()


class KillSwitchRunner:
    """`conn`: autocommit connection for the breaker and the control (None: no control writes)."""

    def __init__(
        self,
        cancels: Cancels,
        flatten: Flatten,
        conn: psycopg.Connection | None,
        actor: str,
        settle: Callable[[], object] = lambda: None,
    ) -> None:
        self._cancels = cancels
        self._flatten = flatten
        self._conn = conn
        self._settle = settle
        self.actor = actor

    def carry_out(
        self,
        switch: KillSwitch,
        positions: list[HeldPosition],
        orders: list[OurOrder],
        now: datetime,
    ) -> KillReport:
        decided = plan(switch, positions, orders)
        if decided.open_breaker and self._conn is not None:
            open_breaker(self._conn, f"kill switch {switch.value}", now, self.actor)
        canceled: list[str] = []
        refused: dict[str, str] = {}
        exits: list[ExitResult] = []
        steps = decided.steps()
        for step in steps:
            if isinstance(step, CancelAll | CancelOrders):
                done, not_done = (
                    self._cancels.cancel_all()
                    if isinstance(step, CancelAll)
                    else self._cancels.cancel_orders(list(step.venue_order_ids))
                )
                canceled += done
                refused.update(not_done)
        if any(isinstance(step, CancelAll | CancelOrders) for step in steps):
            self._settle()  # the cancelled orders' final state, before their positions are exited
        for step in steps:
            if isinstance(step, FlattenExit):
                exits.append(self._flatten(step, switch, now))
        if decided.then is not None and self._conn is not None:
            set_kill_switch(self._conn, decided.then, self.actor, now)
        report = KillReport(decided, tuple(canceled), refused, tuple(exits))
        log.warning(
            "kill_switch.carried_out",
            switch=switch.value,
            canceled=len(canceled),
            not_flattened=[e.position_id for e in exits if not e.flattened],
        )
        return report
