"""The executor's `TickSnapshot` (core.assertions) from its own records and what the venue says.

`build_snapshot` decides what each assertion compares; the rows and the venue's answers are passed
in (sinks.postgres.executor_records, execution.tick_snapshot). The decisions:
- only LIVE has an account at the venue that our fills move: in every other mode the venue's
  positions and balance are our own (there is nothing else to compare them with);
- our collateral balance is the one last agreed with the venue (reconciliation's mark) moved by our
  fills since; with no mark yet it is the venue's;
- an order's instrument is its window's (`btc-5m`); a window not in our table is named from its
  slug (`btc-updown-5m-…`); its start, when the window is unknown, is the order's own creation;
- P&L is compared on the closed positions whose every share went out through fills (a payout at
  resolution is no fill): their booked P&L against the cash of their fills.
Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core.assertions import FillView, OrderView, TickSnapshot
from core.enums import OrderStatus, TradingMode
from core.window_state import instrument_of

__all__ = ["ExecutorRecords", "OrderRecord", "PositionRecord", "build_snapshot", "instrument_for"]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class OrderRecord:
    client_order_id: str
    venue_order_id: str | None
    status: OrderStatus
    window_id: str
    created_at: datetime
    asset: str | None = None
    interval_s: int | None = None
    window_start: datetime | None = None


@dataclass(frozen=True, slots=True)
class PositionRecord:
    """One position with the cash of its fills: `bought`/`sold` shares, `fills_cash` = sells − buys − fees."""

    position_id: str
    token_id: str
    size: Decimal
    cost_usd: Decimal
    closed: bool
    realized_pnl_usd: Decimal
    bought: Decimal
    sold: Decimal
    fills_cash: Decimal


@dataclass(frozen=True, slots=True)
class ExecutorRecords:
    """What the executor has written: `intent_ids` are the client order ids a decision of ours
    (an entry intent, an exit) stands behind; `expected_balance` is the collateral we expect at the
    venue (None: never agreed)."""

    intent_ids: frozenset[str]
    orders: tuple[OrderRecord, ...]
    fills: tuple[FillView, ...]
    positions: tuple[PositionRecord, ...]
    expected_balance: Decimal | None


def instrument_for(window_id: str, asset: str | None, interval_s: int | None) -> str:
    if asset is not None and interval_s is not None:
        return instrument_of(asset, interval_s)
    parts = window_id.lower().split("-")
    if len(parts) >= 3 and parts[1] == "updown":
        return f"{parts[0]}-{parts[2]}"
    return window_id


def build_snapshot(
    at: datetime,
    mode: TradingMode,
    records: ExecutorRecords,
    *,
    venue_positions: Mapping[str, Decimal] | None,
    venue_balance: Decimal,
    allowed_instruments: frozenset[str],
    max_position_usd: Decimal,
    heartbeat_at: datetime | None,
) -> TickSnapshot:
    ours: dict[str, Decimal] = {}
    costs: dict[str, Decimal] = {}
    booked = recomputed = _ZERO
    for p in records.positions:
        if not p.closed:
            ours[p.token_id] = ours.get(p.token_id, _ZERO) + p.size
            costs[p.position_id] = p.cost_usd
        elif p.bought > 0 and p.sold == p.bought:
            booked += p.realized_pnl_usd
            recomputed += p.fills_cash
    live = mode is TradingMode.LIVE
    venue = dict(venue_positions) if live and venue_positions is not None else dict(ours)
    our_balance = records.expected_balance if live and records.expected_balance is not None else venue_balance
    orders = tuple(
        OrderView(
            o.client_order_id,
            o.venue_order_id,
            o.status,
            instrument_for(o.window_id, o.asset, o.interval_s),
            o.window_id,
            o.window_start if o.window_start is not None else o.created_at,
        )
        for o in records.orders
    )
    return TickSnapshot(
        at=at,
        intent_order_ids=records.intent_ids,
        orders=orders,
        fills=records.fills,
        our_positions=ours,
        venue_positions=venue,
        position_costs=costs,
        our_pnl_usd=booked,
        recomputed_pnl_usd=recomputed,
        allowed_instruments=allowed_instruments,
        max_position_usd=max_position_usd,
        executor_heartbeat_at=heartbeat_at,
        our_balance_usd=our_balance,
        venue_balance_usd=venue_balance,
    )
