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
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from connectors.kafka import EventProducer
from core.enums import KillSwitch
from infra import stack
from sinks.postgres.safety import set_kill_switch
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


def paused_out(conn: psycopg.Connection, coids: Sequence[str]) -> set[str]:
    """The intents the executor refused, audited: at the kill switch (a restart starts paused) or as
    older than 30 s (a restart slow under load). Decided, not lost."""
    found = rows(
        conn,
        "SELECT subject FROM audit_log WHERE action = 'entry_blocked' AND subject = ANY(%s)"
        " AND (detail->>'execution_check' LIKE '%%kill_switch%%'"
        " OR detail->>'execution_check' LIKE '%%stale_intent%%')",
        coids,
    )
    return {str(r[0]) for r in found}


def resume_after_live_start(database_url: str, since: datetime) -> None:
    """Wait for the LIVE executor started at `since` to pause (it always starts paused), then RESUME
    as an operator would."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        wait_until(
            lambda: bool(
                rows(
                    conn,
                    "SELECT 1 FROM runtime_controls WHERE name = 'kill_switch' AND value #>> '{}' = 'PAUSE'"
                    " AND updated_by = 'execute:LIVE start' AND updated_at >= %s",
                    since,
                )
            ),
            60,
            "the LIVE executor starting paused",
        )
        set_kill_switch(conn, KillSwitch.RUN, "operator", datetime.now(UTC))


def run_once(sim: RunningSim, database_url: str, bootstrap: str, rng: random.Random, tag: str) -> None:
    """Intents in, one SIGKILL at a random moment, a restart, then the rows against the venue."""
    group = f"execute-{uuid.uuid4().hex[:8]}"
    skip_backlog(bootstrap, group)  # not the intents other tests left on the shared topic
    before = {o.id for o in sim_orders_of(sim, HARDHAT_ADDRESS)}
    started = datetime.now(UTC)
    first = _executor(sim, database_url, bootstrap, group)
    try:
        resume_after_live_start(database_url, started)
        intents = [  # decided now: their age counts from here (the executor refuses stale intents)
            intent_for(sim, i, price="0.50", size="2", window_id=f"btc-updown-5m-{tag}-{i}")
            for i in range(INTENTS)
        ]
        producer = EventProducer(bootstrap)
        for intent in intents:
            producer.produce("trade.intents", intent)
        producer.flush()
        time.sleep(rng.uniform(0.5, 3.0))  # a random point in the executor's work, not a wait for state
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    restarted = datetime.now(UTC)
    second = _executor(sim, database_url, bootstrap, group)
    try:
        # The restart starts paused too: an intent it takes before the operator's RESUME is refused,
        # audited and committed (decided, never an order later); every intent is an order or that.
        resume_after_live_start(database_url, restarted)
        with psycopg.connect(database_url, autocommit=True) as conn:
            coids = [i.client_order_id for i in intents]

            def settled() -> bool:
                found = rows(
                    conn,
                    "SELECT count(*) FROM orders WHERE client_order_id = ANY(%s) AND status IN ('FILLED', 'REJECTED')",
                    coids,
                )
                return bool(found[0][0] + len(paused_out(conn, coids)) == INTENTS)

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
            refused = paused_out(conn, coids)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(30)
    ours = {o.id: o for o in sim_orders_of(sim, HARDHAT_ADDRESS) if o.id not in before}
    placed = {vid for _c, vid, status in stored if status == "FILLED"}
    assert len(stored) + len(refused) == INTENTS, "an intent lost"
    assert not {c for c, _v, _s in stored} & refused, "a refused intent has no order"
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
        paused = rows(
            conn,
            "SELECT count(*) FROM audit_log WHERE action = 'kill_switch' AND subject = 'PAUSE'"
            " AND actor = 'execute:LIVE start'",
        )
    assert paused == [(4,)], "every LIVE start (two per run) starts paused, audited"
    total = sim_orders_of(sim, HARDHAT_ADDRESS)
    assert len(total) == len({o.id for o in total}) <= 2 * INTENTS
