"""Fills inserted per second through the batched, idempotent fill writer (COPY -> staging -> upsert).

Runs on a scratch database of the local stack's server (dropped afterwards), so it never touches
real data. Last line: one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from decimal import Decimal

import psycopg
from psycopg.conninfo import make_conninfo

from core.enums import Side, TradeStatus, TradingMode
from core.ids import TokenId, TradeId, VenueOrderId
from core.models import Fill
from core.timestamps import from_ms
from infra import stack
from polywindow.settings import StackSettings, load
from sinks.postgres.fills import write_fills
from sinks.postgres.migrate import migrate


def _fills(count: int) -> list[Fill]:
    return [
        Fill(
            source_ts=from_ms(1780906650000 + n),
            recv_ts=from_ms(1780906650100 + n),
            source_id=str(n),
            trade_id=TradeId(str(uuid.uuid4())),
            venue_order_id=VenueOrderId("0x" + f"{n:064x}"),
            client_order_id=None,
            window_id=None,
            token_id=TokenId("82133198552451212850200830554151366471676533031779107068575793937686902201075"),
            mode=TradingMode.PAPER,
            side=Side.BUY,
            price=Decimal("0.57"),
            size=Decimal("10.5"),
            fee_usd=Decimal("0.17157"),
            status=TradeStatus.MATCHED,
            is_maker=n % 2 == 0,
        )
        for n in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    settings = load(StackSettings)
    url = settings.database_url.get_secret_value() if settings.database_url else None
    eps = stack.endpoints(settings.stack_dir, url, settings.kafka_bootstrap_servers)
    name = f"pw_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(eps.database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        scratch = make_conninfo(eps.database_url, dbname=name)
        migrate(scratch)
        fills = _fills(args.rows)
        batch_ms: list[float] = []
        with psycopg.connect(scratch) as conn:
            start = time.perf_counter()
            for i in range(0, len(fills), args.batch):
                t0 = time.perf_counter()
                write_fills(conn, fills[i : i + args.batch])
                batch_ms.append((time.perf_counter() - t0) * 1000)
            elapsed = time.perf_counter() - start
            start = time.perf_counter()
            for i in range(0, len(fills), args.batch):  # the same batches again: all conflicts
                write_fills(conn, fills[i : i + args.batch])
            redelivery_s = time.perf_counter() - start
            stored = conn.execute("SELECT count(*) FROM fills").fetchone()
    finally:
        with psycopg.connect(eps.database_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    q = statistics.quantiles(batch_ms, n=100)
    print(
        json.dumps(
            {
                "bench": "pg_write",
                "rows": args.rows,
                "batch_rows": args.batch,
                "stored_rows": stored[0] if stored else 0,
                "fills_per_s": round(args.rows / elapsed),
                "redelivered_fills_per_s": round(args.rows / redelivery_s),
                "batch_p50_ms": round(q[49], 2),
                "batch_p99_ms": round(q[98], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
