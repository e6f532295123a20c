"""Feed-integrity rows: feed gaps, alerts, clock offsets, windows (strikes, venue prices) and their discrepancies, feed stats.

Every method is one short transaction on a pooled connection, run on the process's one writer
thread (sinks.postgres.write_queue.WriteQueue: in order, never blocking a connector). A transient failure (OperationalError: the
server gone, a connection killed, the pool unable to connect) is retried a few times with jittered
backoff; that is safe because writes are idempotent where a retry could repeat them: a gap is opened
at most once per feed (the partial unique index of 0001 enforces it), a window row is an upsert by
window id, a discrepancy an upsert by (window, kind); an alert or stats row repeated by a retry
whose commit reply was lost is tolerated.

Gap rows must never be lost, so a gap open/close that still fails is kept in an in-memory queue and
written, in order (a close never before its open), by the next gap write or `flush_pending()`.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import TypeVar

import psycopg
import structlog
from psycopg_pool import ConnectionPool
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from core.clock import ClockSample
from core.enums import WINDOW_PHASE_ORDER
from core.models import Alert, WindowEvent

log = structlog.get_logger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard one write is retried before it fails (or, for a gap, is kept pending)."""

    attempts: int = 3
    wait_max_s: float = 2.0
    wait_multiplier_s: float = 0.2


@dataclass(frozen=True, slots=True)
class _GapWrite:
    feed: str
    at: datetime
    detail: str | None  # None = close the open gap at `at`


_PHASE_ORDER = [p.value for p in WINDOW_PHASE_ORDER]  # core's order; the SQL never spells it

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
    phase = CASE WHEN array_position(%(phase_order)s::text[], EXCLUDED.phase)
                    > array_position(%(phase_order)s::text[], windows.phase)
                 THEN EXCLUDED.phase ELSE windows.phase END,
    updated_at = now()
"""


# feed_stats columns after (feed, measured_at), in order, and the counter each is read from.
_STATS_COUNTS = (
    "frames",
    "events",
    "duplicates",
    "out_of_order",
    "quarantined",
    "reconnects",
    "resyncs",
    "book_drift",
    "resync_failed",
    "crashes",
    "write_overflow",
    "produce_overflow",
    "delivered",
    "delivery_failed",
)


def _window_params(event: WindowEvent) -> dict[str, object]:
    resolved = event.venue_outcome is not None
    return {
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
        "phase_order": _PHASE_ORDER,
    }


class OpsWriter:
    """Writes the rows the feed connectors decide on; owns nothing but the pool it is given."""

    def __init__(self, pool: ConnectionPool, retry: RetryPolicy | None = None) -> None:
        self._pool = pool
        self._retry = retry or RetryPolicy()
        self._pending: deque[_GapWrite] = deque()
        self._gap_lock = threading.Lock()
        self.failed_attempts = 0

    def _retrying(self, write: Callable[[], T]) -> T:
        """`write()`, retried on transient database errors; the last error is raised."""
        policy = self._retry

        def count(_state: object) -> None:
            self.failed_attempts += 1

        retrying = Retrying(
            stop=stop_after_attempt(policy.attempts),
            wait=wait_random_exponential(multiplier=policy.wait_multiplier_s, max=policy.wait_max_s),
            retry=retry_if_exception_type(psycopg.OperationalError),
            before_sleep=count,
            reraise=True,
        )
        return retrying(write)

    def open_gap(self, feed: str, started_at: datetime, detail: str) -> bool:
        """Open a gap row (a second open gap of a feed is ignored, the first is kept).

        True when it and every earlier pending gap write are stored; False when kept pending."""
        return self._gap_write(_GapWrite(feed, started_at, detail))

    def close_gap(self, feed: str, ended_at: datetime) -> bool:
        """Close the feed's open gap at `ended_at` (never before its start); False when kept pending."""
        return self._gap_write(_GapWrite(feed, ended_at, None))

    def _execute(self, query: str, params: Sequence[object] | Mapping[str, object]) -> None:
        def write() -> None:
            with self._pool.connection() as conn:
                conn.execute(query, params)

        self._retrying(write)

    @property
    def pending_gaps(self) -> int:
        return len(self._pending)

    def flush_pending(self) -> bool:
        """Write the pending gap rows in order; True when none is left."""
        with self._gap_lock:
            while self._pending:
                write = self._pending[0]
                try:
                    self._retrying(partial(self._store_gap, write))
                except psycopg.OperationalError as exc:
                    log.error(
                        "ops.gap_write_pending",
                        feed=write.feed,
                        pending=len(self._pending),
                        error=str(exc)[:200],
                    )
                    return False
                self._pending.popleft()
            return True

    def _gap_write(self, write: _GapWrite) -> bool:
        with self._gap_lock:
            self._pending.append(write)
        return self.flush_pending()

    def _store_gap(self, write: _GapWrite) -> None:
        with self._pool.connection() as conn:
            if write.detail is None:
                conn.execute(
                    "UPDATE feed_gaps SET ended_at = greatest(%s, started_at)"
                    " WHERE feed = %s AND ended_at IS NULL",
                    (write.at, write.feed),
                )
            else:
                conn.execute(
                    "INSERT INTO feed_gaps (feed, started_at, detail) VALUES (%s, %s, %s)"
                    " ON CONFLICT (feed) WHERE ended_at IS NULL DO NOTHING",
                    (write.feed, write.at, write.detail),
                )

    def open_gap_start(self, feed: str) -> datetime | None:
        """When the feed's open gap started (one left open by an earlier run), or None."""

        def read() -> datetime | None:
            with self._pool.connection() as conn:
                row = conn.execute(
                    "SELECT started_at FROM feed_gaps WHERE feed = %s AND ended_at IS NULL", (feed,)
                ).fetchone()
                return None if row is None else row[0]

        return self._retrying(read)

    def record_alert(self, alert: Alert) -> None:
        self._execute(
            "INSERT INTO alerts (kind, severity, message, dedupe_key, event_ts) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (kind, dedupe_key, event_ts) DO NOTHING",  # the sink may have written its copy
            (alert.alert_kind, alert.severity.value, alert.message, alert.dedupe_key, alert.event_ts),
        )

    def record_clock(self, sample: ClockSample) -> None:
        self._execute(
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
        self._execute(_UPSERT_WINDOW, _window_params(event))

    def record_our_outcome(self, window_id: str, outcome: str, at: datetime) -> None:
        """Our resolution (UP, DOWN, UNDECIDABLE or NOT_OBSERVED) of a known window. A flow that
        restarts after our data left the broker judges the window again as NOT_OBSERVED: that never
        replaces an outcome decided before."""
        self._execute(
            "UPDATE windows SET our_outcome = %s, our_resolved_at = %s, updated_at = now()"
            " WHERE window_id = %s AND NOT (%s = 'NOT_OBSERVED' AND our_outcome IS NOT NULL)",
            (outcome, at, window_id, outcome),
        )

    def record_venue_prices(
        self, window: WindowEvent, price_to_beat: Decimal | None, final_price: Decimal | None, at: datetime
    ) -> None:
        """The venue's `priceToBeat` / `finalPrice` (Gamma eventMetadata); a known value is never blanked.

        The window's row is upserted in the same transaction, so the prices are kept even when they
        reach the database before the window's own first write."""

        def write() -> None:
            with self._pool.connection() as conn:
                conn.execute(_UPSERT_WINDOW, _window_params(window))
                conn.execute(
                    "UPDATE windows SET venue_price_to_beat = coalesce(%s, venue_price_to_beat),"
                    " venue_final_price = coalesce(%s, venue_final_price), venue_prices_at = %s,"
                    " updated_at = now() WHERE window_id = %s",
                    (price_to_beat, final_price, at, window.window_id),
                )

        self._retrying(write)

    def record_discrepancy(
        self, window_id: str, kind: str, ours: str, venue: str, detail: str, at: datetime
    ) -> None:
        self._execute(
            "INSERT INTO window_discrepancies (window_id, kind, ours, venue, detail, detected_at)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (window_id, kind) DO UPDATE"
            " SET ours = EXCLUDED.ours, venue = EXCLUDED.venue, detail = EXCLUDED.detail,"
            " detected_at = EXCLUDED.detected_at",
            (window_id, kind, ours, venue, detail, at),
        )

    def record_feed_stats(
        self, feed: str, at: datetime, counts: Mapping[str, int], age_ms: float | None
    ) -> None:
        """Cumulative counters of one connector (frames, events, duplicates, out_of_order, ...); the
        process row (feed 'feeds.process') carries crashes, the write/produce overflows and Kafka
        deliveries (acknowledged, failed)."""
        self._execute(
            "INSERT INTO feed_stats (feed, measured_at, frames, events, duplicates, out_of_order,"
            " quarantined, reconnects, resyncs, drifts, resync_failed, crashes, write_overflow,"
            " produce_overflow, delivered, delivery_failed, last_tick_age_ms)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                feed,
                at,
                *(counts.get(k, 0) for k in _STATS_COUNTS),
                None if age_ms is None else Decimal(str(round(age_ms, 3))),
            ),
        )

    def record_capture_rates(self, rates: Mapping[str, float], at: datetime) -> None:
        if not rates:
            return
        rows = [(token, at, Decimal(str(round(rate, 4)))) for token, rate in rates.items()]

        def write() -> None:
            with self._pool.connection() as conn, conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO capture_rates (token_id, measured_at, ticks_per_s) VALUES (%s, %s, %s)"
                    " ON CONFLICT DO NOTHING",
                    rows,
                )

        self._retrying(write)

    def record_completeness(
        self, feed: str, window_id: str, start: datetime, end: datetime, percent: Decimal, at: datetime
    ) -> None:
        """A feed's coverage of a window. A run that saw less of it (a flow restarted after part of
        the window's data left the broker, a feeds process restarted mid-window) never lowers what
        an earlier run measured: the row keeps the best coverage and when it was computed."""
        self._execute(
            "INSERT INTO feed_completeness (feed, window_id, start_ts, end_ts, percent, computed_at)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (feed, window_id) DO UPDATE"
            " SET percent = EXCLUDED.percent, computed_at = EXCLUDED.computed_at"
            " WHERE EXCLUDED.percent > feed_completeness.percent",
            (feed, window_id, start, end, percent, at),
        )
