"""Feed-integrity rows: feed gaps, alerts, clock offsets, windows and their discrepancies, feed stats.

Every method is one short transaction on a pooled connection, so the asyncio connectors can call it
through `asyncio.to_thread` from several tasks at once. Writes are idempotent where a retry could
repeat them: a gap is opened at most once per feed (the partial unique index of 0001 enforces it),
a window row is an upsert by window id, a discrepancy an upsert by (window, kind).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal

from psycopg_pool import ConnectionPool

from core.clock import ClockSample
from core.models import Alert, WindowEvent

_UPSERT_WINDOW = """
INSERT INTO windows (window_id, asset, interval_s, slug, condition_id, up_token_id, down_token_id,
                     start_ts, end_ts, strike, settlement_rule, our_outcome, venue_outcome,
                     venue_resolved_at, phase)
VALUES (%(window_id)s, %(asset)s, %(interval_s)s, %(window_id)s, %(condition_id)s, %(up)s, %(down)s,
        %(start)s, %(end)s, %(strike)s, %(rule)s, %(ours)s, %(venue)s, %(venue_at)s, %(phase)s)
ON CONFLICT (window_id) DO UPDATE SET
    strike = coalesce(EXCLUDED.strike, windows.strike),
    settlement_rule = coalesce(EXCLUDED.settlement_rule, windows.settlement_rule),
    our_outcome = coalesce(EXCLUDED.our_outcome, windows.our_outcome),
    venue_outcome = coalesce(EXCLUDED.venue_outcome, windows.venue_outcome),
    venue_resolved_at = coalesce(windows.venue_resolved_at, EXCLUDED.venue_resolved_at),
    phase = CASE WHEN array_position(ARRAY['DISCOVERED','OPEN','CLOSED','RESOLVED'], EXCLUDED.phase)
                    > array_position(ARRAY['DISCOVERED','OPEN','CLOSED','RESOLVED'], windows.phase)
                 THEN EXCLUDED.phase ELSE windows.phase END,
    updated_at = now()
"""


class OpsWriter:
    """Writes the rows the feed connectors decide on; owns nothing but the pool it is given."""

    def __init__(self, pool: ConnectionPool) -> None:
        self._pool = pool

    def open_gap(self, feed: str, started_at: datetime, detail: str) -> bool:
        """Open a gap row; False when one is already open for the feed (that one is kept)."""
        with self._pool.connection() as conn:
            cur = conn.execute(
                "INSERT INTO feed_gaps (feed, started_at, detail) VALUES (%s, %s, %s)"
                " ON CONFLICT (feed) WHERE ended_at IS NULL DO NOTHING",
                (feed, started_at, detail),
            )
            return cur.rowcount == 1

    def close_gap(self, feed: str, ended_at: datetime) -> bool:
        """Close the feed's open gap at `ended_at` (never before its start); False if none was open."""
        with self._pool.connection() as conn:
            cur = conn.execute(
                "UPDATE feed_gaps SET ended_at = greatest(%s, started_at) WHERE feed = %s AND ended_at IS NULL",
                (ended_at, feed),
            )
            return cur.rowcount == 1

    def open_gap_start(self, feed: str) -> datetime | None:
        """When the feed's open gap started (one left open by an earlier run), or None."""
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT started_at FROM feed_gaps WHERE feed = %s AND ended_at IS NULL", (feed,)
            ).fetchone()
            return None if row is None else row[0]

    def record_alert(self, alert: Alert) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO alerts (kind, severity, message, dedupe_key, event_ts) VALUES (%s, %s, %s, %s, %s)",
                (alert.alert_kind, alert.severity.value, alert.message, alert.dedupe_key, alert.event_ts),
            )

    def record_clock(self, sample: ClockSample) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO clock_offsets (source, measured_at, offset_ms, rtt_ms, resolution_ms)"
                " VALUES (%s, %s, %s, %s, %s)",
                (
                    sample.source,
                    sample.measured_at,
                    Decimal(str(sample.offset_ms)),
                    None if sample.rtt_ms is None else Decimal(str(sample.rtt_ms)),
                    Decimal(str(sample.resolution.total_seconds() * 1000)),
                ),
            )

    def upsert_window(self, event: WindowEvent) -> None:
        """Insert or advance a window row; a later phase wins, known values are never blanked."""
        resolved = event.venue_outcome is not None
        with self._pool.connection() as conn:
            conn.execute(
                _UPSERT_WINDOW,
                {
                    "window_id": event.window_id,
                    "asset": event.asset,
                    "interval_s": event.interval_s,
                    "condition_id": event.condition_id,
                    "up": event.up_token_id,
                    "down": event.down_token_id,
                    "start": event.start_ts,
                    "end": event.end_ts,
                    "strike": event.strike,
                    "rule": event.settlement_rule,
                    "ours": None if event.our_outcome is None else event.our_outcome.value,
                    "venue": None if event.venue_outcome is None else event.venue_outcome.value,
                    "venue_at": event.source_ts if resolved else None,
                    "phase": event.phase.value,
                },
            )

    def record_our_outcome(self, window_id: str, outcome: str, at: datetime) -> None:
        """Our resolution ('UP', 'DOWN' or 'UNDECIDABLE') of a known window."""
        with self._pool.connection() as conn:
            conn.execute(
                "UPDATE windows SET our_outcome = %s, our_resolved_at = %s, updated_at = now() WHERE window_id = %s",
                (outcome, at, window_id),
            )

    def record_discrepancy(
        self, window_id: str, kind: str, ours: str, venue: str, detail: str, at: datetime
    ) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO window_discrepancies (window_id, kind, ours, venue, detail, detected_at)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (window_id, kind) DO UPDATE"
                " SET ours = EXCLUDED.ours, venue = EXCLUDED.venue, detail = EXCLUDED.detail,"
                " detected_at = EXCLUDED.detected_at",
                (window_id, kind, ours, venue, detail, at),
            )

    def record_feed_stats(
        self, feed: str, at: datetime, counts: Mapping[str, int], age_ms: float | None
    ) -> None:
        """Cumulative counters of one connector (frames, events, duplicates, out_of_order, ...)."""
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO feed_stats (feed, measured_at, frames, events, duplicates, out_of_order,"
                " quarantined, reconnects, resyncs, last_tick_age_ms)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    feed,
                    at,
                    *(
                        counts.get(k, 0)
                        for k in (
                            "frames",
                            "events",
                            "duplicates",
                            "out_of_order",
                            "quarantined",
                            "reconnects",
                            "resyncs",
                        )
                    ),
                    None if age_ms is None else Decimal(str(round(age_ms, 3))),
                ),
            )

    def record_capture_rates(self, rates: Mapping[str, float], at: datetime) -> None:
        if not rates:
            return
        with self._pool.connection() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO capture_rates (token_id, measured_at, ticks_per_s) VALUES (%s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                [(token, at, Decimal(str(round(rate, 4)))) for token, rate in rates.items()],
            )

    def record_completeness(
        self, feed: str, window_id: str, start: datetime, end: datetime, percent: Decimal, at: datetime
    ) -> None:
        with self._pool.connection() as conn:
            conn.execute(
                "INSERT INTO feed_completeness (feed, window_id, start_ts, end_ts, percent, computed_at)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (feed, window_id) DO UPDATE"
                " SET percent = EXCLUDED.percent, computed_at = EXCLUDED.computed_at",
                (feed, window_id, start, end, percent, at),
            )
