"""An executor killed (SIGKILL) at a random point and started again places no duplicate and loses no
order, compared with the simulator's own record of orders (a few runs here; `bench/execute_kill.py`
runs the issue's fifty)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
import uuid
from decimal import Decimal

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from connectors.kafka import EventProducer
from infra import stack
from tests.integration.cli import POLYWINDOW, REPO
from tests.integration.execute_harness import (
    allow_instruments,
    intent_for,
    record_window,
    rows,
    sim_orders_of,
    skip_backlog,
)
from tests.simulator.conftest import (
    HARDHAT_ADDRESS,
    HARDHAT_KEY,
    RunningSim,
    wait_until,
)

pytestmark = [pytest.mark.stack, pytest.mark.timeout(180)]
D = Decimal
INTENTS = 4


def as_url(conninfo: str) -> str:
    """A keyword conninfo as the postgresql:// URL the settings take."""
    from urllib.parse import quote, urlencode

    parts = conninfo_to_dict(conninfo)
    user = quote(str(parts.pop("user", "postgres")))
    dbname = quote(str(parts.pop("dbname", "postgres")))
    host = str(parts.pop("host", ""))
    port = parts.pop("port", None)
    query = urlencode({k: str(v) for k, v in parts.items()})
    if host.startswith("/"):
        query = urlencode({"host": host, **({"port": str(port)} if port else {})}) + (
            "&" + query if query else ""
        )
        return f"postgresql://{user}@/{dbname}?{query}"
    return f"postgresql://{user}@{host}{':' + str(port) if port else ''}/{dbname}" + (
        f"?{query}" if query else ""
    )


def _executor(sim: RunningSim, database_url: str, bootstrap: str, group: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": as_url(database_url),
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        # The session's own broker named by address: the executor treats it as external, so the
        # embedded settings come here (a killed member's partitions move after 6 s, not 45).
        "KAFKA_CLIENT_CONFIG": '{"fetch.wait.max.ms": "1", "session.timeout.ms": "6000"}',
        "POLYWINDOW_CLOB_URL": sim.url,
        "POLY_PRIVATE_KEY": HARDHAT_KEY,
        "POLYWINDOW_EXECUTE_GROUP": group,
        "POLYWINDOW_CONFIRM_S": "5",
        "POLYWINDOW_MAX_POSITION_USD": "1000",
        "POLYWINDOW_EXEC_DAILY_DRAWDOWN_USD": "1000",
    }
    return subprocess.Popen(
        [str(POLYWINDOW), "execute", "--mode", "LIVE"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("PW_EXEC_LOG", os.devnull), "ab"),
    )


def run_once(sim: RunningSim, database_url: str, bootstrap: str, rng: random.Random, tag: str) -> None:
    """Intents in, one SIGKILL at a random moment, a restart, then the rows against the venue."""
    group = f"execute-{uuid.uuid4().hex[:8]}"
    intents = [
        intent_for(sim, i, price="0.50", size="2", window_id=f"btc-updown-5m-{tag}-{i}")
        for i in range(INTENTS)
    ]
    skip_backlog(bootstrap, group)  # not the intents other tests left on the shared topic
    before = {o.id for o in sim_orders_of(sim, HARDHAT_ADDRESS)}
    first = _executor(sim, database_url, bootstrap, group)
    try:
        producer = EventProducer(bootstrap)
        for intent in intents:
            producer.produce("trade.intents", intent)
        producer.flush()
        time.sleep(rng.uniform(0.5, 3.0))  # a random point in the executor's work, not a wait for state
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    second = _executor(sim, database_url, bootstrap, group)
    try:
        with psycopg.connect(database_url, autocommit=True) as conn:
            coids = [i.client_order_id for i in intents]

            def refused_stale() -> int:
                """Intents refused as older than 30 s (a restart slow under load): audited, not lost."""
                found = rows(
                    conn,
                    "SELECT count(DISTINCT subject) FROM audit_log WHERE action = 'entry_blocked'"
                    " AND subject = ANY(%s) AND detail->>'execution_check' LIKE %s",
                    coids,
                    "%stale_intent%",
                )
                return int(found[0][0])

            def settled() -> bool:
                found = rows(
                    conn,
                    "SELECT count(*) FROM orders WHERE client_order_id = ANY(%s) AND status IN ('FILLED', 'REJECTED')",
                    coids,
                )
                return bool(found[0][0] + refused_stale() == INTENTS)

            def tripped() -> bool:
                return bool(rows(conn, "SELECT 1 FROM breaker_events"))

            wait_until(lambda: settled() or tripped(), 90, "every intent's order settled after the restart")
            breaker = rows(conn, "SELECT state, cause FROM breaker_events ORDER BY id")
            assert breaker == [], f"the breaker opened: {breaker}"
            stored = rows(
                conn,
                "SELECT client_order_id, venue_order_id, status FROM orders WHERE client_order_id = ANY(%s)",
                coids,
            )
            stale = refused_stale()
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    ours = {o.id: o for o in sim_orders_of(sim, HARDHAT_ADDRESS) if o.id not in before}
    placed = {vid for _c, vid, status in stored if status == "FILLED"}
    assert len(stored) + stale == INTENTS, "an intent lost"
    assert placed == set(ours), "the venue's orders of this run and the FILLED rows differ"
    assert all(o.size_matched == D(2) for o in ours.values())


def test_sigkill_at_random_points_places_no_duplicate_and_loses_no_order(
    sim: RunningSim, fresh_database: str, endpoints: stack.Endpoints
) -> None:
    from sinks.postgres.migrate import migrate

    migrate(fresh_database)
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        record_window(conn, sim)
        allow_instruments(conn, "btc-5m")
    sim.quote(sim.market.up_token_id, "SELL", "0.50", "100000")
    rng = random.Random(12)
    for run in range(2):
        run_once(sim, fresh_database, endpoints.kafka_bootstrap, rng, f"k{run}{uuid.uuid4().hex[:6]}")
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        kill_switch = rows(
            conn, "SELECT value #>> '{}', updated_by FROM runtime_controls WHERE name = 'kill_switch'"
        )
    assert kill_switch == [("PAUSE", "execute:LIVE start")], "a LIVE executor starts paused"
    total = sim_orders_of(sim, HARDHAT_ADDRESS)
    assert len(total) == len({o.id for o in total}) <= 2 * INTENTS
