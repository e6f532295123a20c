"""Batched, idempotent fill writer: COPY into a temp staging table, then one INSERT ... ON CONFLICT.

The natural key is (trade_id, mode, run): a replayed or re-delivered fill updates the same row, so
Kafka offsets can be committed after the flush without risking duplicates. A status only moves a
trade forward (`core.enums.TRADE_STATUS_RANK`): a late MINED never undoes CONFIRMED, nor a late
MATCHED a MINED.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg

from core.enums import TRADE_STATUS_RANK
from core.models import Fill

_COLUMNS = (
    "trade_id",
    "mode",
    "run_id",
    "venue_order_id",
    "client_order_id",
    "window_id",
    "token_id",
    "side",
    "price",
    "size",
    "fee_usd",
    "status",
    "is_maker",
    "source_ts",
    "recv_ts",
)
_STAGE = "CREATE TEMP TABLE IF NOT EXISTS fills_stage (LIKE fills INCLUDING DEFAULTS INCLUDING GENERATED) ON COMMIT DELETE ROWS"


def _rank(column: str) -> str:
    """SQL for how far along the trade status in `column` is (`core.enums.TRADE_STATUS_RANK`)."""
    cases = " ".join(f"WHEN '{status.value}' THEN {rank}" for status, rank in TRADE_STATUS_RANK.items())
    return f"(CASE {column} {cases} END)"


_MERGE = f"""
INSERT INTO fills ({", ".join(_COLUMNS)})
SELECT DISTINCT ON (trade_id, mode, coalesce(run_id, '')) {", ".join(_COLUMNS)}
FROM fills_stage
ORDER BY trade_id, mode, coalesce(run_id, ''), {_rank("status")} DESC, recv_ts DESC
ON CONFLICT (trade_id, mode, run_key) DO UPDATE
SET status = EXCLUDED.status, recv_ts = EXCLUDED.recv_ts, updated_at = now()
WHERE {_rank("EXCLUDED.status")} > {_rank("fills.status")}
"""


def write_fills(conn: psycopg.Connection, fills: Sequence[Fill], run_id: str | None = None) -> None:
    """Write one batch in one transaction (the caller commits its offsets after this returns)."""
    if not fills:
        return
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(_STAGE)
        with cur.copy(f"COPY fills_stage ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
            for f in fills:
                copy.write_row(
                    (
                        f.trade_id,
                        f.mode.value,
                        run_id,
                        f.venue_order_id,
                        f.client_order_id,
                        f.window_id,
                        f.token_id,
                        f.side.value,
                        f.price,
                        f.size,
                        f.fee_usd,
                        f.status.value,
                        f.is_maker,
                        f.source_ts,
                        f.recv_ts,
                    )
                )
        cur.execute(_MERGE)
