"""The executor's rows: positions, orders, fills and audit entries, written idempotently.

Every write is an upsert on the row's natural key within its mode and run (migration 0010):
a position by (position_id, mode, run), an order by (client_order_id, mode, run), a fill by
(trade_id, mode, run), an audit entry by its `event_key`. A restarted executor that repeats a step
writes the same rows again and changes nothing it should not: an order's status is whatever the
latest event said (the core's transition table already refused anything backwards), a fill's status
only moves forward and its fee is the schedule's. One `write` is one transaction: the consumer
commits its Kafka offset only after it returns.

The reads give the executor what `core.execution_guards.EntryContext` needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from core.enums import OrderStatus, OrderType, PositionState, Side, TradingMode
from core.models import Fill
from core.orders import OrderState
from core.pnl import realized_pnl
from core.positions import Position
from sinks.postgres.fills import write_fills

__all__ = ["AuditEntry", "ExecutionStore", "ExecutionWrite", "OrderRow", "PositionRow", "StoredOrder"]


@dataclass(frozen=True, slots=True)
class PositionRow:
    position: Position
    window_id: str
    token_id: str
    strategy: str
    opened_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class OrderRow:
    order: OrderState
    venue_order_id: str
    position_id: str
    window_id: str
    token_id: str
    side: Side
    price: Decimal
    payload: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    event_key: str
    action: str
    subject: str
    detail: dict[str, Any]
    at: datetime


@dataclass(frozen=True, slots=True)
class ExecutionWrite:
    """Everything one step changed, written in one transaction (parents first)."""

    position: PositionRow | None = None
    order: OrderRow | None = None
    fills: Sequence[tuple[Fill, Decimal]] = ()  # (fill, intended price)
    audit: Sequence[AuditEntry] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class StoredOrder:
    """An order row as read back: its state, what the venue knows it by, and its signed body."""

    state: OrderState
    venue_order_id: str
    position_id: str | None
    window_id: str
    token_id: str
    payload: dict[str, Any] | None


_POSITION = """
INSERT INTO positions (position_id, mode, run_id, window_id, token_id, strategy, state, size,
    avg_entry_price, cost_usd, realized_pnl_usd, fees_usd, slippage_usd, exit_reason,
    held_to_resolution, hold_reason, opened_at, closed_at, updated_at, peak_price, payout_usd)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (position_id, mode, run_key) DO UPDATE SET
    state = EXCLUDED.state, size = EXCLUDED.size, avg_entry_price = EXCLUDED.avg_entry_price,
    cost_usd = EXCLUDED.cost_usd, realized_pnl_usd = EXCLUDED.realized_pnl_usd,
    fees_usd = EXCLUDED.fees_usd, slippage_usd = EXCLUDED.slippage_usd,
    exit_reason = EXCLUDED.exit_reason, held_to_resolution = EXCLUDED.held_to_resolution,
    hold_reason = EXCLUDED.hold_reason, closed_at = EXCLUDED.closed_at, updated_at = EXCLUDED.updated_at,
    peak_price = greatest(positions.peak_price, EXCLUDED.peak_price),
    payout_usd = greatest(positions.payout_usd, EXCLUDED.payout_usd)
"""

_ORDER = """
INSERT INTO orders (client_order_id, venue_order_id, mode, run_id, position_id, window_id, token_id,
    side, order_type, price, size, size_matched, status, done, signed_payload, detail, created_at, updated_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (client_order_id, mode, run_key) DO UPDATE SET
    size_matched = EXCLUDED.size_matched, status = EXCLUDED.status, done = EXCLUDED.done,
    detail = EXCLUDED.detail, updated_at = EXCLUDED.updated_at,
    signed_payload = coalesce(orders.signed_payload, EXCLUDED.signed_payload)
"""

_FILL_EXTRA = """
UPDATE fills SET fee_usd = %s, intended_price = %s, client_order_id = %s
WHERE trade_id = %s AND mode = %s AND run_key = %s
"""

_AUDIT = """
INSERT INTO audit_log (at, actor, action, subject, detail, event_key) VALUES (%s, 'execution', %s, %s, %s, %s)
ON CONFLICT (event_key) DO NOTHING
"""

_ORDER_COLUMNS = (
    "client_order_id, order_type, size, status, size_matched, done, venue_order_id, detail,"
    " position_id, window_id, token_id, signed_payload"
)
_ORDER_BY_ID = (
    f"SELECT {_ORDER_COLUMNS} FROM orders WHERE client_order_id = %s AND mode = %s AND run_key = %s"
)
_WINDOW_ORDERS = (
    f"SELECT {_ORDER_COLUMNS} FROM orders WHERE window_id = %s AND mode = %s AND run_key = %s"
    " ORDER BY created_at"
)
_POSITION_USD = (
    "SELECT coalesce(sum(cost_usd), 0) FROM positions WHERE token_id = %s AND mode = %s"
    " AND run_key = %s AND state <> 'CLOSED'"
)
_DAY_PNL = (
    "SELECT coalesce(sum(realized_pnl_usd), 0) FROM positions WHERE mode = %s AND run_key = %s"
    " AND state = 'CLOSED' AND closed_at >= %s"
)


def _stored(row: tuple[Any, ...]) -> StoredOrder:
    coid, otype, size, status, matched, done, vid, detail, pid, window_id, token_id, payload = row
    state = OrderState(
        client_order_id=coid,
        order_type=OrderType(otype),
        size=size,
        status=OrderStatus(status),
        size_matched=matched,
        done=done,
        venue_order_id=vid,
        detail=detail,
    )
    return StoredOrder(state, vid, pid, window_id, token_id, payload)


class ExecutionStore:
    """Reads and writes of one mode (and one backtest run) on one connection (autocommit)."""

    def __init__(self, conn: psycopg.Connection, mode: TradingMode, run_id: str | None = None) -> None:
        if (mode is TradingMode.BACKTEST) != (run_id is not None):
            raise ValueError("a BACKTEST needs a run id, and only a BACKTEST has one")
        self.conn = conn
        self.mode = mode
        self.run_id = run_id
        self._run_key = run_id or ""

    def write(self, batch: ExecutionWrite) -> None:
        if not batch.fills and not self.conn.info.transaction_status and psycopg.Pipeline.is_supported():
            # The rows stored before a POST: every statement of the transaction in one round trip.
            with self.conn.pipeline():
                self._write(batch)
            return
        self._write(batch)

    def _write(self, batch: ExecutionWrite) -> None:
        with self.conn.transaction(), self.conn.cursor() as cur:
            if batch.position is not None:
                self._position(cur, batch.position)
            if batch.order is not None:
                self._order(cur, batch.order)
            if batch.fills:
                write_fills(self.conn, [f for f, _ in batch.fills], self.run_id)
                for f, intended in batch.fills:
                    cur.execute(
                        _FILL_EXTRA,
                        (f.fee_usd, intended, f.client_order_id, f.trade_id, self.mode.value, self._run_key),
                    )
            for entry in batch.audit:
                detail = Jsonb({**entry.detail, "mode": self.mode.value, "run_id": self.run_id})
                key = f"{self.mode.value}:{self._run_key}:{entry.event_key}"
                cur.execute(_AUDIT, (entry.at, entry.action, entry.subject, detail, key))

    def _position(self, cur: psycopg.Cursor[Any], row: PositionRow) -> None:
        p = row.position
        pnl = realized_pnl(p)
        closed = row.updated_at if p.state is PositionState.CLOSED else None
        cur.execute(
            _POSITION,
            (
                p.position_id,
                self.mode.value,
                self.run_id,
                row.window_id,
                row.token_id,
                row.strategy,
                p.state.value,
                p.size,
                p.avg_entry_price,
                p.entry_cost,
                pnl.realized if p.state is PositionState.CLOSED else Decimal(0),
                p.fees,
                pnl.slippage,
                p.exit_reason.value if p.exit_reason else None,
                p.held_to_resolution,
                p.hold_reason,
                row.opened_at,
                closed,
                row.updated_at,
                p.peak_price,
                p.payout,
            ),
        )

    def _order(self, cur: psycopg.Cursor[Any], row: OrderRow) -> None:
        o = row.order
        cur.execute(
            _ORDER,
            (
                o.client_order_id,
                row.venue_order_id,
                self.mode.value,
                self.run_id,
                row.position_id,
                row.window_id,
                row.token_id,
                row.side.value,
                o.order_type.value,
                row.price,
                o.size,
                o.size_matched,
                o.status.value,
                o.done,
                Jsonb(row.payload) if row.payload is not None else None,
                o.detail,
                row.created_at,
                row.updated_at,
            ),
        )

    def order(self, client_order_id: str) -> StoredOrder | None:
        row = self.conn.execute(_ORDER_BY_ID, (client_order_id, self.mode.value, self._run_key)).fetchone()
        return _stored(row) if row else None

    def entry_reads(
        self, client_order_id: str, window_id: str, token_id: str, day_start: datetime
    ) -> tuple[StoredOrder | None, list[OrderState], Decimal, Decimal]:
        """What an entry's guards read (`order`, `window_orders`, `position_usd`, `day_pnl`), sent in
        one round trip (pipeline mode) rather than four."""
        if self.conn.info.transaction_status or not psycopg.Pipeline.is_supported():
            return (
                self.order(client_order_id),
                self.window_orders(window_id),
                self.position_usd(token_id),
                self.day_pnl(day_start),
            )
        key = (self.mode.value, self._run_key)
        with self.conn.pipeline():
            order = self.conn.execute(_ORDER_BY_ID, (client_order_id, *key))
            window = self.conn.execute(_WINDOW_ORDERS, (window_id, *key))
            cost = self.conn.execute(_POSITION_USD, (token_id, *key))
            pnl = self.conn.execute(_DAY_PNL, (*key, day_start))
        found = order.fetchone()
        cost_row, pnl_row = cost.fetchone(), pnl.fetchone()
        return (
            _stored(found) if found else None,
            [_stored(r).state for r in window.fetchall()],
            Decimal(cost_row[0]) if cost_row else Decimal(0),
            Decimal(pnl_row[0]) if pnl_row else Decimal(0),
        )

    def window_orders(self, window_id: str) -> list[OrderState]:
        rows = self.conn.execute(_WINDOW_ORDERS, (window_id, self.mode.value, self._run_key)).fetchall()
        return [_stored(r).state for r in rows]

    def unsettled_orders(self) -> list[StoredOrder]:
        """Orders a previous run left between steps: their outcome must be asked of the venue."""
        rows = self.conn.execute(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE mode = %s AND run_key = %s"
            " AND (status IN ('NEW', 'SUBMITTED', 'UNKNOWN', 'LIVE') OR (status = 'PARTIALLY_FILLED' AND NOT done))"
            " ORDER BY created_at",
            (self.mode.value, self._run_key),
        ).fetchall()
        return [_stored(r) for r in rows]

    def position_usd(self, token_id: str) -> Decimal:
        """Cost in open positions on `token_id`."""
        row = self.conn.execute(_POSITION_USD, (token_id, self.mode.value, self._run_key)).fetchone()
        return Decimal(row[0]) if row else Decimal(0)

    def day_pnl(self, day_start: datetime) -> Decimal:
        """Realised P&L of positions closed since `day_start` (a loss is negative)."""
        row = self.conn.execute(_DAY_PNL, (self.mode.value, self._run_key, day_start)).fetchone()
        return Decimal(row[0]) if row else Decimal(0)

    def position(self, position_id: str) -> tuple[Position, datetime] | None:
        """The stored numbers of a position still being entered (what the entry step rebuilds from)."""
        row = self.conn.execute(
            "SELECT state, opened_at FROM positions WHERE position_id = %s AND mode = %s AND run_key = %s",
            (position_id, self.mode.value, self._run_key),
        ).fetchone()
        if row is None:
            return None
        return Position(position_id, state=PositionState(row[0])), row[1]

    def cash_delta(self) -> Decimal:
        """Collateral our fills and settlements moved in this mode and run (the paper balance's
        change): a BUY pays price x size and its fee, a SELL receives price x size less its fee,
        failed trades count nothing; a won position's redeemed payout comes back."""
        row = self.conn.execute(
            "SELECT coalesce(sum(CASE side WHEN 'BUY' THEN -(price * size + fee_usd)"
            " ELSE price * size - fee_usd END), 0) + (SELECT coalesce(sum(payout_usd), 0) FROM positions"
            " WHERE mode = %s AND run_key = %s) FROM fills WHERE mode = %s AND run_key = %s"
            " AND status <> 'FAILED'",
            (self.mode.value, self._run_key, self.mode.value, self._run_key),
        ).fetchone()
        return Decimal(row[0]) if row else Decimal(0)

    def open_positions(self, token_id: str, state: PositionState) -> list[tuple[str, str, str, datetime]]:
        """(position id, window id, strategy, opened at) of this mode's positions on `token_id` in `state`."""
        rows = self.conn.execute(
            "SELECT position_id, window_id, strategy, opened_at FROM positions WHERE token_id = %s"
            " AND mode = %s AND run_key = %s AND state = %s ORDER BY opened_at",
            (token_id, self.mode.value, self._run_key, state.value),
        ).fetchall()
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def position_trades(self, position_id: str) -> list[tuple[str, Side, Decimal, Decimal, Decimal, Decimal]]:
        """(trade id, side, price, size, fee, intended price) of the position's orders' live trades."""
        rows = self.conn.execute(
            "SELECT f.trade_id, f.side, f.price, f.size, f.fee_usd, coalesce(f.intended_price, f.price)"
            " FROM fills f JOIN orders o ON o.client_order_id = f.client_order_id AND o.mode = f.mode"
            " AND o.run_key = f.run_key WHERE o.position_id = %s AND o.mode = %s AND o.run_key = %s"
            " AND f.status <> 'FAILED' ORDER BY f.source_ts, f.trade_id",
            (position_id, self.mode.value, self._run_key),
        ).fetchall()
        return [(r[0], Side(r[1]), r[2], r[3], r[4], r[5]) for r in rows]

    def monitoring_tokens(self) -> set[str]:
        """Tokens this mode holds MONITORING positions on (what the exit monitor watches)."""
        rows = self.conn.execute(
            "SELECT DISTINCT token_id FROM positions WHERE mode = %s AND run_key = %s AND state = 'MONITORING'",
            (self.mode.value, self._run_key),
        ).fetchall()
        return {r[0] for r in rows}

    def position_peak(self, position_id: str) -> Decimal | None:
        """The highest bid a position has been marked at since entry (a trailing take-profit's peak)."""
        row = self.conn.execute(
            "SELECT peak_price FROM positions WHERE position_id = %s AND mode = %s AND run_key = %s",
            (position_id, self.mode.value, self._run_key),
        ).fetchone()
        return Decimal(row[0]) if row and row[0] is not None else None

    def position_marks(self, position_id: str) -> tuple[str, str | None, bool, str, str | None] | None:
        """(state, exit reason, held to resolution, hold reason, exit order id) of a stored position."""
        row = self.conn.execute(
            "SELECT p.state, p.exit_reason, p.held_to_resolution, p.hold_reason,"
            " (SELECT o.client_order_id FROM orders o WHERE o.position_id = p.position_id AND o.mode = p.mode"
            "  AND o.run_key = p.run_key AND o.side = 'SELL' LIMIT 1)"
            " FROM positions p WHERE p.position_id = %s AND p.mode = %s AND p.run_key = %s",
            (position_id, self.mode.value, self._run_key),
        ).fetchone()
        return (row[0], row[1], row[2], row[3], row[4]) if row else None

    def pause_trading(self, at: datetime, by: str) -> None:
        """Set the kill switch to PAUSE (a LIVE trader starts paused, whatever the row said), audited."""
        with self.conn.transaction():
            self.conn.execute(
                "UPDATE runtime_controls SET value = '\"PAUSE\"', updated_at = now(), updated_by = %s"
                " WHERE name = 'kill_switch'",  # the database's clock, as in safety.set_kill_switch
                (by,),
            )
            self.conn.execute(
                "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (%s, %s, 'kill_switch', 'PAUSE', %s)",
                (at, by, Jsonb({"reason": "LIVE start", "mode": self.mode.value})),
            )
