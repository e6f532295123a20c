"""Carry out a kill-switch level at the venue: the plan from `core.kill_switch`, the calls through
py-clob-client-v2, the breaker and the control in PostgreSQL.

`KillSwitchRunner.carry_out(switch, positions, orders, now)` cancels (our orders for FLATTEN, the
account's every order for EMERGENCY), sells each held position with a FAK market order, opens the
breaker on EMERGENCY and sets FLATTEN back to PAUSE once done. It returns what happened; the sizes
sold are the venue's (`makingAmount` of the answer), never the request's. An exit the venue cannot
fill (no bids: the book is empty near the close) is reported as not flattened with the venue's
words; the position is then held to resolution, which the executor records. Positions' bookkeeping
stays with the executor: it learns the fills from the user channel like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import psycopg
import structlog
from py_clob_client_v2.clob_types import MarketOrderArgsV2, OrderType
from py_clob_client_v2.exceptions import PolyApiException

from core.enums import KillSwitch
from core.kill_switch import CancelAll, CancelOrders, FlattenExit, HeldPosition, KillPlan, OurOrder, plan
from core.money import parse_decimal
from sinks.postgres.safety import open_breaker, set_kill_switch

__all__ = ["ExitResult", "KillReport", "KillSwitchClient", "KillSwitchRunner"]

log = structlog.get_logger(__name__)
_ZERO = Decimal(0)


class KillSwitchClient(Protocol):
    def cancel_all(self) -> Any: ...
    def cancel_orders(self, order_hashes: list[str]) -> Any: ...
    def create_market_order(self, order_args: Any, options: Any = None) -> Any: ...
    def post_order(self, order: Any, order_type: Any = ..., post_only: bool = False) -> Any: ...


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


@dataclass(frozen=True, slots=True)
class KillReport:
    plan: KillPlan
    canceled: tuple[str, ...] = ()
    not_canceled: dict[str, str] = field(default_factory=dict)
    exits: tuple[ExitResult, ...] = ()


class KillSwitchRunner:
    """`conn`: autocommit connection for the breaker and the control (None: venue side only)."""

    def __init__(self, client: KillSwitchClient, conn: psycopg.Connection | None, actor: str) -> None:
        self._client = client
        self._conn = conn
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
        for step in decided.steps():
            if isinstance(step, CancelAll | CancelOrders):
                done, not_done = self._cancel(step)
                canceled += done
                refused.update(not_done)
            else:
                exits.append(self._sell(step))
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

    def _cancel(self, step: CancelAll | CancelOrders) -> tuple[list[str], dict[str, str]]:
        try:
            if isinstance(step, CancelAll):
                answer = self._client.cancel_all()
            else:
                answer = self._client.cancel_orders(list(step.venue_order_ids))
        except PolyApiException as exc:
            ids = ["*"] if isinstance(step, CancelAll) else list(step.venue_order_ids)
            return [], {i: f"cancel failed ({exc.status_code}): {exc.error_msg}" for i in ids}
        body = answer if isinstance(answer, dict) else {}
        done = [str(i) for i in body.get("canceled") or []]
        not_done = {str(k): str(v) for k, v in (body.get("not_canceled") or {}).items()}
        return done, not_done

    def _sell(self, step: FlattenExit) -> ExitResult:
        # The client takes floats; a 2-decimal share count converts exactly enough (it floors to 2).
        args = MarketOrderArgsV2(
            token_id=step.token_id, amount=float(step.size), side="SELL", order_type=OrderType.FAK
        )
        try:
            signed = self._client.create_market_order(args)
            answer = self._client.post_order(signed, OrderType.FAK)
        except PolyApiException as exc:
            return ExitResult(step.position_id, step.token_id, step.size, _ZERO, "", _venue_text(exc))
        except Exception as exc:  # the client's own refusal, e.g. no bids to price the sell against
            return ExitResult(step.position_id, step.token_id, step.size, _ZERO, "", str(exc))
        body = answer if isinstance(answer, dict) else {}
        sold = parse_decimal(str(body.get("makingAmount") or "0"))
        return ExitResult(
            step.position_id,
            step.token_id,
            step.size,
            sold,
            str(body.get("orderID", "")),
            str(body.get("status")),
        )


def _venue_text(exc: PolyApiException) -> str:
    body = exc.error_msg
    text = body.get("error") if isinstance(body, dict) else body
    return f"{exc.status_code}: {text}"
