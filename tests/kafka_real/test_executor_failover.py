"""The LIVE executor (a consumer group member, committing after its rows) against the simulator while
the leader of a `trade.intents` partition it reads is cut off: every acknowledged intent becomes one
order at the venue, none twice, and the executor is never restarted."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest
from confluent_kafka import KafkaError, KafkaException, Message, Producer

from connectors.kafka import producer_config
from core.serde import encode
from core.topics import topic
from infra import stack
from sinks.postgres.migrate import migrate
from tests.integration.execute_harness import (
    allow_instruments,
    intent_for,
    record_window,
    rows,
    sim_orders_of,
    skip_backlog,
)
from tests.integration.test_execute_kill import as_url, resume_after_live_start
from tests.kafka_real.conftest import RealCluster
from tests.simulator.conftest import (
    HARDHAT_ADDRESS,
    HARDHAT_KEY,
    RunningSim,
    fast_config,
    start_sim,
    wait_until,
)

pytestmark = [pytest.mark.stack, pytest.mark.timeout(300)]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
INTENTS = 16


@pytest.fixture
def venue() -> Iterator[RunningSim]:
    running, stop = start_sim(fast_config(trade_mined_delay_s=0.02, trade_confirmed_delay_s=0.02))
    try:
        yield running
    finally:
        stop()


@pytest.fixture
def database(endpoints: stack.Endpoints) -> Iterator[str]:
    name = f"pw_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(endpoints.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, query = endpoints.database_url.partition("?")
    url = f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
    try:
        yield url
    finally:
        with psycopg.connect(endpoints.database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _executor(venue: RunningSim, url: str, bootstrap: str, group: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": as_url(url) if not url.startswith("postgresql://") else url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "KAFKA_CLIENT_CONFIG": '{"session.timeout.ms": "6000"}',
        "POLYWINDOW_CLOB_URL": venue.url,
        "POLY_PRIVATE_KEY": HARDHAT_KEY,
        "POLYWINDOW_EXECUTE_GROUP": group,
        "POLYWINDOW_CONFIRM_S": "5",
        "POLYWINDOW_MAX_POSITION_USD": "1000",
        "POLYWINDOW_EXEC_DAILY_DRAWDOWN_USD": "1000",
    }
    return subprocess.Popen(
        [os.path.join(REPO, ".venv", "bin", "polywindow"), "execute", "--mode", "LIVE"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_the_executor_places_each_acknowledged_intent_once_across_a_leader_cut(
    real_cluster: RealCluster, venue: RunningSim, database: str
) -> None:
    migrate(database)
    with psycopg.connect(database, autocommit=True) as conn:
        record_window(conn, venue)
        allow_instruments(conn, "btc-5m")
    venue.quote(venue.market.up_token_id, "SELL", "0.50", "100000")
    bootstrap, spec, tag = real_cluster.bootstrap, topic("trade.intents"), uuid.uuid4().hex[:6]
    group = f"execute-{tag}"
    deadline = time.monotonic() + 60
    while True:  # the first commits on a new cluster may meet a coordinator still loading
        try:
            skip_backlog(bootstrap, group)  # not the intents the other tests left on the topic
            break
        except KafkaException:
            assert time.monotonic() < deadline, "no group coordinator within 60 s"
    acked: list[str] = []
    partitions: dict[str, int] = {}

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        if err is None:
            coid = (msg.key() or b"").decode()
            acked.append(coid)
            partitions[coid] = msg.partition() or 0

    producer = Producer(producer_config(bootstrap))
    started = datetime.now(UTC)
    executor = _executor(venue, database, bootstrap, group)
    resume_after_live_start(database, started)  # LIVE starts paused; the operator resumes
    leader = None
    coids: dict[str, str] = {}
    try:
        for i in range(INTENTS):
            intent = intent_for(venue, i, price="0.50", size="2", window_id=f"btc-updown-5m-{tag}-{i}")
            coids[intent.window_id] = intent.client_order_id
            producer.produce(
                spec.name, key=spec.key_of(intent), value=encode(intent), on_delivery=on_delivery
            )
            producer.poll(0.5)
            if i == 3:
                producer.flush(30)
                leader = real_cluster.leader_of(spec.name, partitions[acked[0]])
                real_cluster.cut(leader)  # the leader of the partition of the first intents
        producer.flush(60)
        assert leader is not None
        done = [coids[w] for w in acked]
        with psycopg.connect(database, autocommit=True) as conn:

            def settled() -> bool:
                found = rows(
                    conn,
                    "SELECT count(*) FROM orders WHERE client_order_id = ANY(%s) AND status IN ('FILLED', 'REJECTED')",
                    done,
                )
                return bool(found[0][0] == len(done)) or bool(rows(conn, "SELECT 1 FROM breaker_events"))

            wait_until(settled, 150, "every acknowledged intent's order settled")
            assert executor.poll() is None, "the executor stopped"
            breaker = rows(conn, "SELECT state, cause FROM breaker_events ORDER BY id")
            stored = rows(
                conn,
                "SELECT client_order_id, venue_order_id, status FROM orders WHERE client_order_id = ANY(%s)",
                list(coids.values()),
            )
    finally:
        executor.terminate()
        executor.wait(30)
        if leader is not None:
            real_cluster.heal(leader)
    assert breaker == [], f"the breaker opened: {breaker}"
    assert len(acked) > 4, f"only {len(acked)} intents acknowledged: the producer did not carry on"
    ours = sim_orders_of(venue, HARDHAT_ADDRESS)
    placed = {vid for _c, vid, status in stored if status == "FILLED"}
    assert {c for c, _v, _s in stored} >= set(done), "an acknowledged intent has no order"
    assert len(stored) == len({c for c, _v, _s in stored}), "an intent has two orders"
    assert placed == {o.id for o in ours}, "the venue's orders and the FILLED rows differ"
    assert all(o.size_matched == Decimal(2) for o in ours)
