"""The executor's rows as the runtime assertions read them (one mode, one run), and the
`allowed_instruments` control. Reads only; the decisions are core.tick_snapshot's."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import psycopg

from core.assertions import FillView
from core.enums import KillSwitch, OrderStatus, PositionState, Side, TradeStatus, TradingMode
from core.kill_switch import HeldPosition, OurOrder
from core.tick_snapshot import ExecutorRecords, OrderRecord, PositionRecord

__all__ = [
    "WonPosition",
    "kill_switch_sets_since",
    "kill_switch_targets",
    "last_audit_id",
    "orders_may_rest",
    "read_allowed_instruments",
    "read_executor_records",
    "read_kill_switch",
    "won_unredeemed",
]

_RUN = "mode = %(mode)s AND run_key = %(run)s"
_INTENTS = (
    "SELECT subject FROM audit_log WHERE action = 'entry'"
    " AND event_key = %(mode)s || ':' || %(run)s || ':entry:' || subject"
    " UNION SELECT o.client_order_id FROM orders o JOIN positions p"
    " ON p.position_id = o.position_id AND p.mode = o.mode AND p.run_key = o.run_key"
    " WHERE o.mode = %(mode)s AND o.run_key = %(run)s AND o.side = 'SELL'"
    " AND p.state IN ('EXIT_PENDING', 'CLOSED')"
)
_ORDERS = (
    "SELECT o.client_order_id, o.venue_order_id, o.status, o.window_id, o.created_at,"
    " w.asset, w.interval_s, w.start_ts FROM orders o LEFT JOIN windows w ON w.window_id = o.window_id"
    " WHERE o.mode = %(mode)s AND o.run_key = %(run)s"
)
_FILLS = f"SELECT trade_id, status, source_ts FROM fills WHERE {_RUN}"
_POSITIONS = (
    "SELECT p.position_id, p.token_id, p.size, p.cost_usd, p.state = 'CLOSED', p.realized_pnl_usd,"
    " coalesce(sum(f.size) FILTER (WHERE f.side = 'BUY'), 0),"
    " coalesce(sum(f.size) FILTER (WHERE f.side = 'SELL'), 0),"
    " coalesce(sum(CASE f.side WHEN 'BUY' THEN -f.price * f.size ELSE f.price * f.size END - f.fee_usd), 0)"
    " FROM positions p"
    " LEFT JOIN orders o ON o.position_id = p.position_id AND o.mode = p.mode AND o.run_key = p.run_key"
    " LEFT JOIN fills f ON f.client_order_id = o.client_order_id AND f.mode = o.mode"
    " AND f.run_key = o.run_key AND f.status <> 'FAILED'"
    " WHERE p.mode = %(mode)s AND p.run_key = %(run)s"
    " GROUP BY p.position_id, p.token_id, p.size, p.cost_usd, p.state, p.realized_pnl_usd"
)
_FILLS_CASH = (
    "SELECT coalesce(sum(CASE side WHEN 'BUY' THEN -price * size ELSE price * size END - fee_usd), 0)"
    f" FROM fills WHERE {_RUN} AND status <> 'FAILED'"
)
_MARK = "SELECT balance, fills_cash FROM balance_marks WHERE mode = %(mode)s"
_MAY_REST = (
    "SELECT EXISTS (SELECT 1 FROM orders WHERE mode = %(mode)s AND run_key = ''"
    " AND status IN ('SUBMITTED', 'UNKNOWN', 'LIVE', 'PARTIALLY_FILLED') AND NOT done)"
)
_WON = (
    "SELECT p.position_id, p.window_id, p.token_id, p.strategy, p.opened_at, p.size, w.condition_id"
    " FROM positions p JOIN windows w ON w.window_id = p.window_id"
    " JOIN audit_log a ON a.action = 'resolved' AND a.subject = p.position_id"
    " AND a.event_key = p.mode || ':' || p.run_key || ':resolved:' || p.position_id"
    " WHERE p.mode = %(mode)s AND p.run_key = %(run)s AND p.state <> 'CLOSED' AND (a.detail ->> 'won')::boolean"
    " ORDER BY p.position_id"
)
_SWITCH = "SELECT value #>> '{}', updated_at FROM runtime_controls WHERE name = 'kill_switch'"
_LAST_AUDIT = "SELECT coalesce(max(id), 0) FROM audit_log"
# Every audited setting of the kill switch after `since` (the API's `control.set`, safety's
# `kill_switch.set`): the newest audit id, and the last FLATTEN or EMERGENCY among them.
_SWITCH_SETS = (
    "SELECT id, coalesce(detail ->> 'to', detail ->> 'level') FROM audit_log WHERE id > %(since)s"
    " AND subject = 'kill_switch' AND action IN ('control.set', 'kill_switch.set') ORDER BY id"
)
_HELD = (
    "SELECT position_id, token_id, size, state FROM positions"
    " WHERE mode = %(mode)s AND run_key = %(run)s AND state <> 'CLOSED' AND size > 0 ORDER BY position_id"
)
_RESTING = (
    "SELECT venue_order_id, token_id, side FROM orders WHERE mode = %(mode)s AND run_key = %(run)s"
    " AND status IN ('SUBMITTED', 'UNKNOWN', 'LIVE', 'PARTIALLY_FILLED') AND NOT done ORDER BY venue_order_id"
)
_ALLOWED = "SELECT value FROM runtime_controls WHERE name = 'allowed_instruments'"


def read_executor_records(
    conn: psycopg.Connection, mode: TradingMode, run_id: str | None = None
) -> ExecutorRecords:
    args = {"mode": mode.value, "run": run_id or ""}
    with conn.transaction():  # one view of the rows
        intents = frozenset(str(r[0]) for r in conn.execute(_INTENTS, args))
        orders = tuple(
            OrderRecord(str(c), v, OrderStatus(s), str(w), created, asset, interval, start)
            for c, v, s, w, created, asset, interval, start in conn.execute(_ORDERS, args)
        )
        fills = tuple(FillView(str(t), TradeStatus(s), at) for t, s, at in conn.execute(_FILLS, args))
        positions = tuple(
            PositionRecord(str(p), str(t), Decimal(z), Decimal(c), bool(closed), Decimal(r), b, s, cash)
            for p, t, z, c, closed, r, b, s, cash in conn.execute(_POSITIONS, args)
        )
        expected = None
        mark = conn.execute(_MARK, args).fetchone() if run_id is None else None
        if mark is not None:
            cash_row = conn.execute(_FILLS_CASH, args).fetchone()
            cash = Decimal(cash_row[0]) if cash_row else Decimal(0)
            expected = Decimal(mark[0]) + cash - Decimal(mark[1])
    return ExecutorRecords(intents, orders, fills, positions, expected)


def read_allowed_instruments(conn: psycopg.Connection) -> frozenset[str]:
    row = conn.execute(_ALLOWED).fetchone()
    if row is None:
        return frozenset()
    value = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    return frozenset(str(v) for v in value or ())


def orders_may_rest(conn: psycopg.Connection, mode: TradingMode) -> bool:
    """Whether any order of ours may rest at the venue (sent and not settled, or not known to be)."""
    row = conn.execute(_MAY_REST, {"mode": mode.value}).fetchone()
    return bool(row and row[0])


@dataclass(frozen=True, slots=True)
class WonPosition:
    position_id: str
    window_id: str
    token_id: str
    strategy: str
    opened_at: datetime
    size: Decimal
    condition_id: str


def won_unredeemed(
    conn: psycopg.Connection, mode: TradingMode, run_id: str | None = None
) -> list[WonPosition]:
    """Positions resolved as won whose payout is not redeemed yet (not CLOSED)."""
    return [
        WonPosition(str(p), str(w), str(t), str(s), opened, Decimal(z), str(c))
        for p, w, t, s, opened, z, c in conn.execute(_WON, {"mode": mode.value, "run": run_id or ""})
    ]


def read_kill_switch(conn: psycopg.Connection) -> tuple[KillSwitch, datetime | None]:
    """The kill switch control and when it was last set (no row: RUN)."""
    row = conn.execute(_SWITCH).fetchone()
    return (KillSwitch.RUN, None) if row is None else (KillSwitch(str(row[0])), row[1])


def last_audit_id(conn: psycopg.Connection) -> int:
    row = conn.execute(_LAST_AUDIT).fetchone()
    return int(row[0]) if row else 0


def kill_switch_sets_since(conn: psycopg.Connection, since: int) -> tuple[int, KillSwitch | None]:
    """(the newest audit id seen, the last FLATTEN or EMERGENCY set after `since`, if any): a setting
    another executor already carried out and set back to PAUSE is still seen here."""
    newest, acted = since, None
    for audit_id, value in conn.execute(_SWITCH_SETS, {"since": since}):
        newest = max(newest, int(audit_id))
        if value in (KillSwitch.FLATTEN.value, KillSwitch.EMERGENCY.value):
            acted = KillSwitch(value)
    return newest, acted


def kill_switch_targets(
    conn: psycopg.Connection, mode: TradingMode, run_id: str | None = None
) -> tuple[list[HeldPosition], list[OurOrder]]:
    """The positions a flatten exits and our orders the venue may still hold."""
    args = {"mode": mode.value, "run": run_id or ""}
    held = [
        HeldPosition(str(p), str(t), Decimal(z), PositionState(s)) for p, t, z, s in conn.execute(_HELD, args)
    ]
    orders = [OurOrder(str(v), str(t), Side(s)) for v, t, s in conn.execute(_RESTING, args)]
    return held, orders
