"""A few rows of every kind the dashboard shows: a current and a settled window, an open and a closed
position with their orders and fills, assertion results (one failing), feeds of three ages, a balance
mark, a completeness row and an alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

CONDITION = "0x" + "ab" * 32
SETTLED_CONDITION = "0x" + "cd" * 32
VENUE_ORDER = "0x" + "11" * 32
VENUE_EXIT = "0x" + "22" * 32


def insert_rows(database: str, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 5)
    settled_start = start - timedelta(minutes=5)
    with psycopg.connect(database) as conn:
        conn.execute(
            "INSERT INTO windows (window_id, asset, interval_s, slug, condition_id, up_token_id, down_token_id,"
            " start_ts, end_ts, strike, venue_price_to_beat, phase) VALUES"
            " ('btc-updown-5m-now', 'btc', 300, 'btc-updown-5m-now', %s, '101', '102', %s, %s, 97123.45, 97123.40, 'OPEN'),"
            " ('btc-updown-5m-prev', 'btc', 300, 'btc-updown-5m-prev', %s, '201', '202', %s, %s, 97000, 97000.10,"
            " 'RESOLVED')",
            (CONDITION, start, start + timedelta(minutes=5), SETTLED_CONDITION, settled_start, start),
        )
        conn.execute(
            "UPDATE windows SET our_outcome = 'UP', venue_outcome = 'UP', our_resolved_at = %s,"
            " venue_resolved_at = %s WHERE window_id = 'btc-updown-5m-prev'",
            (start, start),
        )
        conn.execute(
            "INSERT INTO positions (position_id, mode, window_id, token_id, strategy, state, size,"
            " avg_entry_price, cost_usd, realized_pnl_usd, opened_at, closed_at, updated_at) VALUES"
            " ('pos-open', 'DRY_RUN', 'btc-updown-5m-now', '101', 'canary', 'MONITORING', 10, 0.55, 5.5, 0, %s, NULL, %s),"
            " ('pos-won', 'DRY_RUN', 'btc-updown-5m-prev', '201', 'canary', 'CLOSED', 0, 0.60, 6.0, 3.2, %s, %s, %s),"
            " ('pos-lost', 'DRY_RUN', 'btc-updown-5m-prev', '202', 'canary', 'CLOSED', 0, 0.40, 4.0, -1.5, %s, %s, %s)",
            (now, now, settled_start, start, start, settled_start, start + timedelta(seconds=1), start),
        )
        conn.execute(
            "INSERT INTO orders (client_order_id, venue_order_id, mode, position_id, window_id, token_id, side,"
            " order_type, price, size, size_matched, status, created_at, updated_at) VALUES"
            " ('co-1', %s, 'DRY_RUN', 'pos-open', 'btc-updown-5m-now', '101', 'BUY', 'FAK', 0.56, 10, 10,"
            " 'FILLED', %s, %s)",
            (VENUE_ORDER, now, now),
        )
        conn.execute(
            "INSERT INTO fills (trade_id, mode, venue_order_id, client_order_id, window_id, token_id, side,"
            " price, size, fee_usd, status, is_maker, source_ts, recv_ts) VALUES"
            " ('t-1', 'DRY_RUN', %s, 'co-1', 'btc-updown-5m-now', '101', 'BUY', 0.55, 10, 0.07, 'CONFIRMED',"
            " false, %s, %s)",
            (VENUE_ORDER, now, now),
        )
        for name, passed, detail in (
            ("position_count", True, ""),
            ("balance_match", True, ""),
            ("pnl_match", False, "ours 3.20, venue 3.10"),
        ):
            conn.execute(
                "INSERT INTO assertion_results (name, passed, detail, event_ts) VALUES (%s, %s, %s, %s)",
                (name, passed, detail, now),
            )
        for feed, age_ms in (("market", 800), ("rtds", 3200), ("binance", 12_000)):
            conn.execute(
                "INSERT INTO feed_stats (feed, measured_at, frames, events, duplicates, out_of_order,"
                " quarantined, reconnects, resyncs, last_tick_age_ms) VALUES (%s, %s, 10, 10, 0, 0, 0, 0, 0, %s)",
                (feed, now, age_ms),
            )
        conn.execute(
            "INSERT INTO balance_marks (mode, balance, fills_cash, marked_at) VALUES ('DRY_RUN', 1000, 0, %s)",
            (now,),
        )
        conn.execute(
            "INSERT INTO feed_completeness (feed, window_id, start_ts, end_ts, percent, computed_at) VALUES"
            " ('market', 'btc-updown-5m-prev', %s, %s, 99.5, %s)",
            (settled_start, start, now),
        )
        conn.execute(
            "INSERT INTO clock_offsets (source, measured_at, offset_ms, rtt_ms, resolution_ms) VALUES"
            " ('venue', %s, 12, 30, 1)",
            (now,),
        )
        conn.execute(
            "INSERT INTO alerts (kind, severity, message, event_ts) VALUES"
            " ('feed.gap', 'WARNING', 'binance silent for 12 s', %s)",
            (now,),
        )
