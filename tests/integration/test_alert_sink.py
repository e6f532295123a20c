"""Every alert raised on ops.alerts reaches the alerts table exactly once, whoever raised it and
however often it is delivered; a value that is not an alert is quarantined, not fatal; a database
outage holds the batch until the database is back (a real outage: connections refused)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from confluent_kafka import Consumer, Producer
from psycopg_pool import ConnectionPool

from connectors.kafka import EventProducer, consumer_config
from core.backoff import Backoff
from core.enums import Severity
from core.models import Alert, Quarantined
from infra import stack
from sinks.postgres.alert_table import AlertTableSink
from sinks.postgres.migrate import migrate
from sinks.postgres.ops import OpsWriter
from tests.integration.private_kafka import PrivateKafka, private_kafka
from tests.integration.test_ops_outage import set_reachable

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]


@pytest.fixture
def kafka() -> Iterator[PrivateKafka]:
    with private_kafka() as cluster:
        yield cluster


@pytest.fixture
def database(fresh_database: str) -> str:
    migrate(fresh_database)
    return fresh_database


def _alert(tag: str, n: int) -> Alert:
    at = datetime(2031, 5, 1, tzinfo=UTC) + timedelta(seconds=n)
    return Alert(
        alert_kind="archive.offsets_lost",
        severity=Severity.CRITICAL,
        message=f"{tag} {n}",
        dedupe_key=tag,
        event_ts=at,
    )


def _sink(
    bootstrap: str,
    database: str,
    quarantined: list[Quarantined],
    group: str = "alerts-table",
) -> AlertTableSink:
    consumer = Consumer(consumer_config(bootstrap, group, embedded=True))
    return AlertTableSink(consumer, database, quarantined.append, backoff=Backoff(base_s=0.05, cap_s=0.2))


def _rows(database: str, tag: str) -> list[str]:
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT message FROM alerts WHERE dedupe_key = %s ORDER BY event_ts", (tag,))
        return [r[0] for r in rows.fetchall()]


def _until(done: Callable[[], bool], sink: AlertTableSink, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "the sink did not get there in time"
        sink.step()


def test_alerts_on_the_topic_reach_the_table_once_beside_rows_written_directly(
    kafka: PrivateKafka, database: str
) -> None:
    tag, quarantined = uuid.uuid4().hex, list[Quarantined]()
    alerts = [_alert(tag, n) for n in range(5)]
    with ConnectionPool(database, min_size=1, max_size=1) as pool:
        OpsWriter(pool).record_alert(alerts[0])  # feeds writes its own alerts directly too
    producer = EventProducer(kafka.bootstrap)
    for a in alerts:
        producer.produce("ops.alerts", a)
    producer.produce("ops.alerts", alerts[3])  # delivered twice
    producer.flush()
    raw = Producer({"bootstrap.servers": kafka.bootstrap})
    raw.produce("ops.alerts", key=b"x", value=b"{not an alert")
    raw.flush(10)

    sink = _sink(kafka.bootstrap, database, quarantined)
    _until(lambda: sink.stats.consumed >= 7, sink)
    assert _rows(database, tag) == [f"{tag} {n}" for n in range(5)]
    assert sink.stats.quarantined == 1 and quarantined[0].raw == b"{not an alert"
    sink.close()

    again = _sink(kafka.bootstrap, database, quarantined, group="alerts-table-2")  # a replay of the topic
    _until(lambda: again.stats.consumed >= 7, again)
    again.close()
    assert _rows(database, tag) == [f"{tag} {n}" for n in range(5)]


def test_a_database_outage_holds_the_batch_until_the_database_is_back(
    kafka: PrivateKafka, database: str, endpoints: stack.Endpoints
) -> None:
    tag, quarantined = uuid.uuid4().hex, list[Quarantined]()
    sink = _sink(kafka.bootstrap, database, quarantined)
    producer = EventProducer(kafka.bootstrap)
    producer.produce("ops.alerts", _alert(tag, 0))
    producer.flush()
    _until(lambda: len(_rows(database, tag)) == 1, sink)

    set_reachable(endpoints.database_url, database, False)
    stop = threading.Event()
    worker = threading.Thread(target=sink.run, args=(stop.is_set,))
    try:
        worker.start()
        for n in range(1, 4):
            producer.produce("ops.alerts", _alert(tag, n))
        producer.flush()
        deadline = time.monotonic() + 60
        while sink.stats.db_failures < 2:  # the sink has the batch and is retrying against the outage
            assert time.monotonic() < deadline, "the sink never met the outage"
            time.sleep(0.02)
        set_reachable(endpoints.database_url, database, True)
        while _rows(database, tag) != [f"{tag} {n}" for n in range(4)]:
            assert time.monotonic() < deadline, "the held batch did not arrive after the outage"
            time.sleep(0.05)
    finally:
        set_reachable(endpoints.database_url, database, True)
        stop.set()
        worker.join(30)
    assert not worker.is_alive() and quarantined == []
