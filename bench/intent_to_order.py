"""Intent -> order accepted by the simulator: `OrderManager.execute` in LIVE from the moment an
intent is handed over (consumed) to the simulator's 200 to `POST /order`, signing included.

What lies between: the entry guards' reads (stored orders, positions, day P&L: one pipelined round
trip) with the venue's balance over HTTP asked meanwhile on its own thread, the tick and fee
schedule (cached 5 s), the order signed with py-clob-client-v2 (eth-keys on coincurve; its metadata
derived from the intent id), the order and position stored in PostgreSQL before the POST (one
round trip and its commit), then the POST itself. The simulator runs in this process on a loopback port (as in the tests), the database
is a scratch one on the local stack's server (dropped afterwards). Each intent is a FAK BUY of 2
shares at 0.50 in a window of its own. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the simulator harness lives in tests/

from core.enums import TradingMode
from core.execution_guards import ExecutionLimits
from infra import stack
from polywindow.execution_wiring import build_manager
from polywindow.settings import StackSettings, load
from sinks.postgres.migrate import migrate
from tests.integration.execute_harness import intent_for, venue_of
from tests.simulator.conftest import fast_config, start_sim

D = Decimal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--intents", type=int, default=300)
    args = parser.parse_args()
    settings = load(StackSettings)
    url = settings.database_url.get_secret_value() if settings.database_url else None
    eps = stack.endpoints(settings.stack_dir, url, settings.kafka_bootstrap_servers)
    name = f"pw_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(eps.database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    sim, stop = start_sim(fast_config(trade_mined_delay_s=0.01, trade_confirmed_delay_s=0.01))
    samples_ms: list[float] = []
    try:
        scratch = make_conninfo(eps.database_url, dbname=name)
        migrate(scratch)
        sim.quote(sim.market.up_token_id, "SELL", "0.50", "10000000")
        venue = venue_of(sim)
        accepted: list[float] = []
        post = venue.post

        def timed_post(body: Any) -> dict[str, Any]:
            answer: dict[str, Any] = post(body)
            accepted.append(time.perf_counter())
            return answer

        venue.post = timed_post
        limits = ExecutionLimits(max_position_usd=D(10**9), daily_drawdown_usd=D(10**9))
        with psycopg.connect(scratch, autocommit=True) as conn:
            manager = build_manager(TradingMode.LIVE, conn, venue=venue, limits=limits)
            tag = uuid.uuid4().hex[:6]
            for i in range(args.intents + 20):
                intent = intent_for(sim, i, price="0.50", size="2", window_id=f"btc-updown-5m-b{tag}-{i}")
                start = time.perf_counter()
                manager.execute(intent)
                if i >= 20:  # warm-up: connections, caches, first signatures
                    samples_ms.append((accepted[-1] - start) * 1000)
    finally:
        stop()
        with psycopg.connect(eps.database_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    q = statistics.quantiles(samples_ms, n=100)
    print(
        json.dumps(
            {
                "bench": "intent_to_order",
                "intents": len(samples_ms),
                "p50_ms": round(statistics.median(samples_ms), 2),
                "p99_ms": round(q[98], 2),
                "max_ms": round(max(samples_ms), 2),
            }
        )
    )


if __name__ == "__main__":
    main()
