"""Read-only SQL for what the API does not serve (open positions, balance marks, realised P&L, the
current windows, completeness, alerts). Every session is opened read-only, so the dashboard cannot
write through it even by mistake."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from streamlit_app.config import DashboardConfig

__all__ = ["Reader"]

CONNECT_TIMEOUT_S = 3
STATEMENT_TIMEOUT_MS = 3000

OPEN_POSITIONS = """
SELECT p.window_id, CASE WHEN p.token_id = w.up_token_id THEN 'UP'
                         WHEN p.token_id = w.down_token_id THEN 'DOWN' ELSE '?' END AS side,
       p.strategy, p.state, p.size, p.avg_entry_price AS entry, p.cost_usd, p.realized_pnl_usd,
       p.mode, p.opened_at
FROM positions p LEFT JOIN windows w USING (window_id)
WHERE p.state <> 'CLOSED' ORDER BY p.opened_at DESC LIMIT 200
"""
BALANCES = "SELECT mode, balance, marked_at FROM balance_marks ORDER BY mode"
CLOSED_SINCE = """
SELECT closed_at, strategy, realized_pnl_usd FROM positions
WHERE closed_at >= %s ORDER BY closed_at
"""
PNL_BY_STRATEGY = """
SELECT strategy, count(*) AS positions, count(*) FILTER (WHERE state = 'CLOSED') AS closed,
       sum(realized_pnl_usd) AS realized_pnl_usd
FROM positions WHERE opened_at >= %s GROUP BY strategy ORDER BY strategy
"""
TRIGGERS = """
SELECT updated_at, window_id, strategy, state, size, avg_entry_price AS entry, realized_pnl_usd
FROM positions WHERE state IN ('STOP_TRIGGERED', 'TP_TRIGGERED') ORDER BY updated_at DESC LIMIT 100
"""
CURRENT_WINDOWS = """
SELECT window_id, asset, interval_s, start_ts, end_ts, strike, venue_price_to_beat
FROM windows WHERE start_ts <= %s AND end_ts > %s ORDER BY interval_s, asset LIMIT 50
"""
COMPLETENESS = """
SELECT feed, window_id, percent, end_ts FROM feed_completeness ORDER BY end_ts DESC, feed LIMIT 40
"""
ALERTS = "SELECT event_ts, severity, kind, message FROM alerts ORDER BY event_ts DESC LIMIT 30"


class Reader:
    def __init__(self, config: DashboardConfig) -> None:
        self._url = config.database_url

    def _rows(self, query: str, *params: Any) -> list[dict[str, Any]]:
        with psycopg.connect(
            self._url.get_secret_value(),
            connect_timeout=CONNECT_TIMEOUT_S,
            options=f"-c default_transaction_read_only=on -c statement_timeout={STATEMENT_TIMEOUT_MS}",
            row_factory=dict_row,
        ) as conn:
            return list(conn.execute(query, params).fetchall())

    def open_positions(self) -> list[dict[str, Any]]:
        return self._rows(OPEN_POSITIONS)

    def balances(self) -> list[dict[str, Any]]:
        return self._rows(BALANCES)

    def closed_since(self, since: datetime) -> list[dict[str, Any]]:
        return self._rows(CLOSED_SINCE, since)

    def pnl_by_strategy(self, since: datetime) -> list[dict[str, Any]]:
        return self._rows(PNL_BY_STRATEGY, since)

    def triggers(self) -> list[dict[str, Any]]:
        return self._rows(TRIGGERS)

    def current_windows(self, now: datetime) -> list[dict[str, Any]]:
        return self._rows(CURRENT_WINDOWS, now, now)

    def completeness(self) -> list[dict[str, Any]]:
        return self._rows(COMPLETENESS)

    def alerts(self) -> list[dict[str, Any]]:
        return self._rows(ALERTS)
