"""What the order manager checks before an entry reaches the venue, and the ids that make an intent
lead to at most one order (issue 12; seed 0.1, 0.5, 0.4).

Risk already approved the intent; the executor checks again against what only it knows at the
moment of sending: the real (or paper) balance, its own orders in the window, and whether any of
them is UNKNOWN. First failing rule wins, in this order:

1. `intent_id`: the intent's client order id is the one derived from its signal id (a changed or
   forged intent would get a second order past the duplicate check);
2. `duplicate_intent`: an order with this client order id exists: never post again; ask the venue;
3. `unknown_order`: an order of ours in this window is UNKNOWN: it may have filled, so nothing new
   goes out until the user channel or reconciliation settles it;
4. `order_in_flight`: an order of ours in this window is not settled yet;
5. `max_orders_per_window`: two orders per window per instrument (hard, as in risk);
6. `max_position_usd`: the per-position dollar cap (default $5) with this order's cost;
7. `daily_drawdown`: the day's loss plus this order's cost at risk over the limit (default $20);
8. `balance`: cost plus the fee at the limit price over the available collateral.

Before all of these, the executor's safety net (`kill_switch_gate`, asked at every entry with the
kill switch as just read): PAUSE, FLATTEN and EMERGENCY refuse every new entry, whatever the flow
approved (an intent already on the topic when an operator paused, or when LIVE started paused).

Pure: the balance, the orders, the P&L and the kill switch are arguments.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from core.enums import KillSwitch
from core.exits import DEFAULT_DAILY_DRAWDOWN_USD
from core.fees import FeeSchedule, trade_fee
from core.ids import ClientOrderId
from core.intents import client_order_id_for
from core.kill_switch import plan
from core.models import OrderIntent
from core.orders import OrderState
from core.risk import MAX_ORDERS_PER_WINDOW_INSTRUMENT

__all__ = [
    "DEFAULT_MAX_POSITION_USD",
    "Allowed",
    "Blocked",
    "EntryContext",
    "ExecutionLimits",
    "check_entry",
    "exit_client_order_id",
    "kill_switch_gate",
    "order_metadata",
]

DEFAULT_MAX_POSITION_USD = Decimal(5)


@dataclass(frozen=True, slots=True)
class ExecutionLimits:
    max_position_usd: Decimal = DEFAULT_MAX_POSITION_USD
    daily_drawdown_usd: Decimal = DEFAULT_DAILY_DRAWDOWN_USD
    max_orders_per_window: int = MAX_ORDERS_PER_WINDOW_INSTRUMENT


@dataclass(frozen=True, slots=True)
class EntryContext:
    """What the executor knows as it is about to send.

    `window_orders`: every order of ours in the intent's window (both tokens: a window is one
    instrument), entries and exits, in any state; `position_usd`: the cost already in positions on
    the intent's token; `available_usd`: the venue's (or the paper) collateral balance;
    `day_pnl_usd`: the day's realised P&L (a loss is negative).
    """

    window_orders: Sequence[OrderState]
    position_usd: Decimal
    available_usd: Decimal
    day_pnl_usd: Decimal


@dataclass(frozen=True, slots=True)
class Allowed:
    cost_usd: Decimal
    fee_usd: Decimal


@dataclass(frozen=True, slots=True)
class Blocked:
    rule: str
    detail: str


def check_entry(
    intent: OrderIntent,
    context: EntryContext,
    schedule: FeeSchedule,
    limits: ExecutionLimits = ExecutionLimits(),
) -> Allowed | Blocked:
    """Whether the entry `intent` may be sent now, or the first rule that stops it."""
    expected = client_order_id_for(intent.signal_id)
    if intent.client_order_id != expected:
        return Blocked("intent_id", f"{intent.client_order_id} is not the id of {intent.signal_id}")
    orders = context.window_orders
    if any(o.client_order_id == intent.client_order_id for o in orders):
        return Blocked("duplicate_intent", f"{intent.client_order_id} already has an order")
    unknown = [o.client_order_id for o in orders if o.unknown]
    if unknown:
        return Blocked("unknown_order", f"UNKNOWN until settled: {', '.join(unknown)}")
    in_flight = [o.client_order_id for o in orders if not o.settled]
    if in_flight:
        return Blocked("order_in_flight", ", ".join(in_flight))
    if len(orders) >= limits.max_orders_per_window:
        return Blocked("max_orders_per_window", f"{len(orders)} orders already")
    cost = intent.size * intent.limit_price
    fee = trade_fee(schedule, intent.size, intent.limit_price)
    if context.position_usd + cost > limits.max_position_usd:
        return Blocked("max_position_usd", f"${context.position_usd} + ${cost} > ${limits.max_position_usd}")
    if -context.day_pnl_usd + cost > limits.daily_drawdown_usd:
        return Blocked(
            "daily_drawdown", f"loss ${-context.day_pnl_usd} + ${cost} at risk > ${limits.daily_drawdown_usd}"
        )
    if cost + fee > context.available_usd:
        return Blocked("balance", f"${cost} + fee ${fee} > ${context.available_usd} available")
    return Allowed(cost, fee)


def kill_switch_gate(level: KillSwitch) -> Blocked | None:
    """None when `level` lets a new entry go out; else why not (what each level allows is
    `core.kill_switch.plan`'s one definition)."""
    if plan(level, (), ()).accept_entries:
        return None
    return Blocked("kill_switch", f"kill switch at {level.value}: no new entries")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def order_metadata(client_order_id: ClientOrderId) -> str:
    """The signed V2 order's `metadata` (bytes32, 0x + 64 hex) for our client order id.

    The venue never echoes a client id, but it keeps the signed order; a bytes32 derived from our id
    lets reconciliation tell our orders apart by what they carry, whatever salt the client drew.
    """
    return "0x" + _digest("metadata", client_order_id)


def exit_client_order_id(position_id: str) -> ClientOrderId:
    """The client order id of a position's exit: one exit order per position (the lifecycle allows
    one), so it derives from the position id alone and a restarted executor finds it again."""
    return ClientOrderId(f"px-{_digest('exit', position_id)[:40]}")
