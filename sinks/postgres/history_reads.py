"""History for the API and the dashboard: orders, fills (gross, fee, net and slippage against the
order's limit), positions, the audit log and window settlements (our resolution against the
venue's), filtered by time, window and mode. Reads only; the SQL is fixed per kind, the filters
are parameters (identifiers never come from the caller)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import psycopg
from psycopg import sql

__all__ = ["HistoryFilter", "HistoryKind", "read_history"]


class HistoryKind(StrEnum):
    orders = "orders"
    fills = "fills"
    positions = "positions"
    audit = "audit"
    settlements = "settlements"


@dataclass(frozen=True, slots=True)
class HistoryFilter:
    since: datetime | None = None
    until: datetime | None = None
    window_id: str | None = None
    mode: str | None = None
    limit: int = 500


@dataclass(frozen=True, slots=True)
class _Shape:
    select: str
    time: str  # the column the time filter and the order use
    window: str | None  # the window column, if the kind has one
    mode: str | None


_SHAPES: dict[HistoryKind, _Shape] = {
    HistoryKind.orders: _Shape(
        "SELECT client_order_id, venue_order_id, mode, window_id, token_id, side, order_type, price, size,"
        " size_matched, status, detail, created_at, updated_at FROM orders",
        "created_at",
        "window_id",
        "mode",
    ),
    HistoryKind.fills: _Shape(
        "SELECT f.trade_id, f.mode, f.venue_order_id, f.client_order_id, f.window_id, f.token_id, f.side,"
        " f.price, f.size, f.price * f.size AS gross_usd, f.fee_usd,"
        " CASE f.side WHEN 'BUY' THEN f.price * f.size + f.fee_usd ELSE f.price * f.size - f.fee_usd END"
        " AS net_usd,"
        " CASE f.side WHEN 'BUY' THEN f.price - o.price ELSE o.price - f.price END AS slippage,"
        " f.status, f.is_maker, f.source_ts"
        " FROM fills f LEFT JOIN orders o ON o.client_order_id = f.client_order_id",
        "f.source_ts",
        "f.window_id",
        "f.mode",
    ),
    HistoryKind.positions: _Shape(
        "SELECT position_id, mode, window_id, token_id, strategy, state, size, avg_entry_price, cost_usd,"
        " realized_pnl_usd, opened_at, closed_at FROM positions",
        "opened_at",
        "window_id",
        "mode",
    ),
    HistoryKind.audit: _Shape(
        "SELECT id, at, actor, action, subject, detail::text AS detail FROM audit_log", "at", None, None
    ),
    HistoryKind.settlements: _Shape(
        "SELECT window_id, asset, interval_s, start_ts, end_ts, strike, venue_price_to_beat,"
        " venue_final_price, our_outcome, venue_outcome,"
        " (our_outcome IS NOT NULL AND venue_outcome IS NOT NULL AND our_outcome = venue_outcome) AS agrees,"
        " our_resolved_at, venue_resolved_at FROM windows"
        " WHERE (our_outcome IS NOT NULL OR venue_outcome IS NOT NULL)",
        "end_ts",
        "window_id",
        None,
    ),
}


def read_history(
    conn: psycopg.Connection, kind: HistoryKind, where: HistoryFilter
) -> tuple[list[str], list[tuple[object, ...]]]:
    """The column names and the rows, newest first, at most `where.limit`."""
    shape = _SHAPES[kind]
    clauses: list[sql.Composable] = []
    params: list[object] = []
    time_col = sql.SQL(shape.time)
    if where.since is not None:
        clauses.append(sql.SQL("{} >= %s").format(time_col))
        params.append(where.since)
    if where.until is not None:
        clauses.append(sql.SQL("{} < %s").format(time_col))
        params.append(where.until)
    if where.window_id is not None:
        if shape.window is None:
            raise ValueError(f"{kind.value} has no window to filter on")
        clauses.append(sql.SQL("{} = %s").format(sql.SQL(shape.window)))
        params.append(where.window_id)
    if where.mode is not None:
        if shape.mode is None:
            raise ValueError(f"{kind.value} has no mode to filter on")
        clauses.append(sql.SQL("{} = %s").format(sql.SQL(shape.mode)))
        params.append(where.mode)
    joiner = " AND " if " WHERE " in shape.select else " WHERE "
    query: sql.Composable = sql.SQL(shape.select)
    if clauses:
        query = sql.Composed([query, sql.SQL(joiner), sql.SQL(" AND ").join(clauses)])
    query = sql.Composed([query, sql.SQL(" ORDER BY {} DESC LIMIT %s").format(time_col)])
    params.append(where.limit)
    with conn.cursor() as cur:
        cur.execute(query, params)
        names = [d.name for d in cur.description or []]
        return names, [tuple(r) for r in cur.fetchall()]
