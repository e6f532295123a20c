"""Fifty SIGKILLs of a LIVE executor at random points, each followed by a restart: duplicate and lost
orders against the simulator's own record (issue 12's acceptance run; `make test` runs two).

Each run produces four intents to `trade.intents`, kills `polywindow execute --mode LIVE` at a
random moment, starts it again and waits until every intent's order is settled; the run fails on a
second order for an intent, an intent without an order, or a venue order the rows do not know.
The simulator runs in this process; the database is a scratch one on the local stack's server (with
the simulator's window recorded and its instrument allowed, as `make run` has them: reconciliation
and the runtime assertions check both). A failed run is explained from the rows: per intent, its
order's status, or the rule of its `entry_blocked` audit entry (`stale_intent` is an intent older
than 30 s when the restarted executor took it), or nothing at all (lost). Set PW_EXEC_LOG to a file to
keep the executors' logs. Last line: one JSON object.
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

from core.intents import client_order_id_for, signal_id_for
from infra import stack
from polywindow.settings import StackSettings, load
from sinks.postgres.migrate import migrate
from tests.integration.execute_harness import allow_instruments, record_window, sim_orders_of
from tests.integration.test_execute_kill import INTENTS, run_once
from tests.simulator.conftest import HARDHAT_ADDRESS, fast_config, start_sim


def outcomes(scratch: str, tag: str) -> list[str]:
    """What became of each intent of run `tag`: its order's status, `blocked:<rule>`, or `lost`."""
    found: list[str] = []
    with psycopg.connect(scratch, autocommit=True) as conn:
        for i in range(INTENTS):
            coid = client_order_id_for(signal_id_for(f"btc-updown-5m-{tag}-{i}", "canary", i))
            order = conn.execute("SELECT status FROM orders WHERE client_order_id = %s", (coid,)).fetchone()
            blocked = conn.execute(
                "SELECT detail->>'execution_check' FROM audit_log WHERE action = 'entry_blocked' AND subject = %s",
                (coid,),
            ).fetchone()
            found.append(order[0] if order else f"blocked:{blocked[0]}" if blocked else "lost")
    return found


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
    ends: list[str] = []
    started = time.monotonic()
    try:
        scratch = make_conninfo(eps.database_url, dbname=name)
        migrate(scratch)
        with psycopg.connect(scratch, autocommit=True) as conn:
            record_window(conn, sim)
            allow_instruments(conn, "btc-5m")
        sim.quote(sim.market.up_token_id, "SELL", "0.50", "100000000")
        rng = random.Random(args.seed)
        for run in range(args.runs):
            tag = f"b{run}{uuid.uuid4().hex[:6]}"
            try:
                run_once(sim, scratch, eps.kafka_bootstrap, rng, tag)
            except AssertionError as exc:
                failures.append(f"run {run}: {outcomes(scratch, tag)}: {str(exc)[:300]}")
                print(failures[-1], flush=True)
            ends.extend(outcomes(scratch, tag))
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
                "filled": ends.count("FILLED"),
                "refused_stale": sum(e.startswith("blocked:") and "stale_intent" in e for e in ends),
                "refused_other": sum(e.startswith("blocked:") and "stale_intent" not in e for e in ends),
                "lost": ends.count("lost"),
                "failures": failures,
                "seconds": round(time.monotonic() - started),
            }
        )
    )


if __name__ == "__main__":
    main()
