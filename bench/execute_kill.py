"""Fifty SIGKILLs of a LIVE executor at random points, each followed by a restart: duplicate and lost
orders against the simulator's own record (issue 12's acceptance run; `make test` runs two).

Each run produces four intents to `trade.intents`, kills `polywindow execute --mode LIVE` at a
random moment, starts it again and waits until every intent's order is settled; the run fails on a
second order for an intent, an intent without an order, or a venue order the rows do not know.
The simulator runs in this process; the database is a scratch one on the local stack's server.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the harness lives in tests/

from infra import stack
from polywindow.settings import StackSettings, load
from sinks.postgres.migrate import migrate
from tests.integration.execute_harness import sim_orders_of
from tests.integration.test_execute_kill import INTENTS, run_once
from tests.simulator.conftest import HARDHAT_ADDRESS, fast_config, start_sim


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    settings = load(StackSettings)
    url = settings.database_url.get_secret_value() if settings.database_url else None
    eps = stack.endpoints(settings.stack_dir, url, settings.kafka_bootstrap_servers)
    name = f"pw_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(eps.database_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    sim, stop = start_sim(fast_config(trade_mined_delay_s=0.02, trade_confirmed_delay_s=0.02))
    failures: list[str] = []
    started = time.monotonic()
    try:
        scratch = make_conninfo(eps.database_url, dbname=name)
        migrate(scratch)
        sim.quote(sim.market.up_token_id, "SELL", "0.50", "100000000")
        rng = random.Random(args.seed)
        for run in range(args.runs):
            try:
                run_once(sim, scratch, eps.kafka_bootstrap, rng, f"b{run}{uuid.uuid4().hex[:6]}")
            except AssertionError as exc:
                failures.append(f"run {run}: {exc}")
        orders = sim_orders_of(sim, HARDHAT_ADDRESS)
    finally:
        stop()
        with psycopg.connect(eps.database_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(
        json.dumps(
            {
                "bench": "execute_kill",
                "runs": args.runs,
                "intents": args.runs * INTENTS,
                "venue_orders": len(orders),
                "duplicate_venue_ids": len(orders) - len({o.id for o in orders}),
                "failed_runs": len(failures),
                "first_failure": failures[0] if failures else None,
                "seconds": round(time.monotonic() - started),
            }
        )
    )


if __name__ == "__main__":
    main()
