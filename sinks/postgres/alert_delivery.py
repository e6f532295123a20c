"""The record of alert deliveries in the `alerts` table: `delivered_at` once an alert went out,
`delivery_error` when it could not. An alert is known by its kind and dedupe key: one delivered
once is never sent again, by any process, after any restart."""

from __future__ import annotations

from datetime import datetime

from psycopg_pool import ConnectionPool

from core.models import Alert

__all__ = ["AlertDeliveryLog"]

_RECORD = (
    "INSERT INTO alerts (kind, severity, message, dedupe_key, event_ts, delivered_at, delivery_error)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (kind, dedupe_key, event_ts) DO UPDATE"
    " SET delivered_at = coalesce(alerts.delivered_at, EXCLUDED.delivered_at),"
    " delivery_error = EXCLUDED.delivery_error"
)


class AlertDeliveryLog:
    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def delivered(self, alert: Alert) -> bool:
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT 1 FROM alerts WHERE kind = %s AND dedupe_key = %s AND delivered_at IS NOT NULL LIMIT 1",
                (alert.alert_kind, alert.dedupe_key),
            ).fetchone()
        return row is not None

    def record(self, alert: Alert, delivered_at: datetime | None, error: str | None) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                _RECORD,
                (
                    alert.alert_kind,
                    alert.severity.value,
                    alert.message,
                    alert.dedupe_key,
                    alert.event_ts,
                    delivered_at,
                    error,
                ),
            )
