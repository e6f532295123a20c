"""Kafka delivery failures surface while the producer runs: counted, handed over once, alerted on
ops.alerts and in the alerts table. Faults are real broker errors from a private mock cluster."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial

import psycopg
import pytest
from confluent_kafka import Consumer, TopicPartition
from psycopg_pool import ConnectionPool

from connectors.delivery import DeliveryWatch
from connectors.kafka import EventProducer, consumer_config, decode_message
from core.delivery import delivery_alert
from core.enums import Severity
from core.models import Alert
from polywindow.settings import FeedSettings
from polywindow.wiring import Feeds
from sinks.postgres.migrate import migrate
from sinks.postgres.ops import OpsWriter
from tests.integration.feeds_harness import on_thread, wait_for
from tests.integration.private_kafka import PrivateKafka, private_kafka

pytestmark = [pytest.mark.stack, pytest.mark.timeout(30)]


def now() -> datetime:
    return datetime.now(UTC)


def alert(n: int) -> Alert:
    return Alert(alert_kind="test.delivery", severity=Severity.INFO, message=f"event {n}", event_ts=now())


@pytest.fixture
def kafka() -> Iterator[PrivateKafka]:
    with private_kafka() as cluster:
        yield cluster


@pytest.fixture
def database(fresh_database: str) -> str:
    migrate(fresh_database)
    return fresh_database


def produce_failing(producer: EventProducer, kafka: PrivateKafka, count: int) -> None:
    """`count` events the broker rejects, one request each, waiting for each rejection."""
    producer.produce("ops.alerts", alert(0))
    producer.flush()  # metadata and producer id settled before the faults
    kafka.fail_produce_requests(count)
    base = producer.delivery_errors
    for n in range(1, count + 1):
        producer.produce("ops.alerts", alert(n))
        wait_for(partial(rejected, producer, base + n), 10, f"rejection {n}")


def rejected(producer: EventProducer, at_least: int) -> bool:
    producer.poll(0.05)
    return producer.delivery_errors >= at_least


def alerts_on_topic(bootstrap: str) -> list[Alert]:
    consumer = Consumer(consumer_config(bootstrap, f"test-{uuid.uuid4().hex}", embedded=True))
    consumer.subscribe(["ops.alerts"])
    found: list[Alert] = []
    deadline = time.monotonic() + 10
    try:
        while time.monotonic() < deadline and not any(a.alert_kind == "kafka.delivery_failed" for a in found):
            found.extend(decode_message(m) for m in consumer.consume(100, timeout=0.2))
    finally:
        consumer.close()
    return found


def alert_rows(database: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(database) as conn:
        return conn.execute(
            "SELECT kind, severity, message FROM alerts WHERE kind = 'kafka.delivery_failed'"
        ).fetchall()


def test_rejected_deliveries_are_counted_alerted_and_stored_once(kafka: PrivateKafka, database: str) -> None:
    producer = EventProducer(kafka.bootstrap)
    with ConnectionPool(database, min_size=1, max_size=2, open=True) as pool:
        watch = DeliveryWatch(producer, OpsWriter(pool), now)
        produce_failing(producer, kafka, 3)

        first = watch.check()
        again = watch.check()
        producer.flush()  # the alert itself is delivered; nothing left unreported

    assert producer.delivery_errors == 3
    assert first is not None and first.severity is Severity.CRITICAL
    assert "ops.alerts: 3 x INVALID_RECORD" in first.message
    assert again is None
    delivered = [a for a in alerts_on_topic(kafka.bootstrap) if a.alert_kind == "kafka.delivery_failed"]
    assert [a.message for a in delivered] == [first.message]
    assert alert_rows(database) == [("kafka.delivery_failed", "CRITICAL", first.message)]


def test_feeds_process_reports_a_rejected_delivery_within_seconds(kafka: PrivateKafka, database: str) -> None:
    settings = FeedSettings(clob_url="http://127.0.0.1:9", stats_interval_s=60.0, clock_interval_s=60.0)
    feeds = Feeds(settings, kafka.bootstrap, database, only=set())
    try:
        with on_thread(feeds.run):
            produce_failing(feeds.producer, kafka, 1)
            wait_for(lambda: bool(alert_rows(database)), 10, "the delivery alert row")
    finally:
        feeds.close()
    [(_kind, severity, message)] = alert_rows(database)
    assert severity == "CRITICAL" and "ops.alerts: 1 x INVALID_RECORD" in message


def test_a_full_producer_queue_drops_counts_and_reports_instead_of_raising(
    kafka: PrivateKafka, database: str
) -> None:
    producer = EventProducer(kafka.bootstrap, {"queue.buffering.max.messages": "1"})
    producer.produce("ops.alerts", alert(0))
    producer.flush()
    with ConnectionPool(database, min_size=1, max_size=2, open=True) as pool:
        watch = DeliveryWatch(producer, OpsWriter(pool), now)
        for n in range(1, 51):  # faster than any broker acknowledges: the one-slot queue overflows
            producer.produce("ops.alerts", alert(n))
        wait_for(lambda: rejected(producer, 0) and producer.in_flight() == 0, 10, "the queue to drain")
        reported = watch.check()
    producer.flush()
    assert producer.queue_full > 0
    assert reported is not None and reported.severity is Severity.CRITICAL
    assert f"ops.alerts: {producer.queue_full} x local queue full" in reported.message
    assert alert_rows(database) == [("kafka.delivery_failed", "CRITICAL", reported.message)]


def _consumed(bootstrap: str, tags: set[str]) -> list[str]:
    """Every ops.alerts message of ours on the broker: each partition read from 0 to its end."""
    consumer = Consumer(consumer_config(bootstrap, f"test-{uuid.uuid4().hex}", embedded=True))
    parts = consumer.list_topics("ops.alerts", timeout=10).topics["ops.alerts"].partitions
    ends = {p: consumer.get_watermark_offsets(TopicPartition("ops.alerts", p), timeout=10)[1] for p in parts}
    consumer.assign([TopicPartition("ops.alerts", p, 0) for p in parts])
    seen: list[str] = []
    read = dict.fromkeys(parts, 0)
    deadline = time.monotonic() + 30
    while any(read[p] < ends[p] for p in parts):
        assert time.monotonic() < deadline, "the topic was not read to its end"
        for msg in consumer.consume(500, timeout=0.2):
            partition, offset = msg.partition(), msg.offset()
            if msg.error() is None and partition is not None and offset is not None:
                read[partition] = offset + 1
                if (message := decode_message(msg).message) in tags:
                    seen.append(message)
    consumer.close()
    return seen


def test_a_broker_outage_loses_no_event_uncounted_and_close_reports_what_is_still_queued(
    kafka: PrivateKafka,
) -> None:
    """Broker down: events produced then time out within seconds and are counted as failures; events
    produced while it comes back are delivered once; what is still queued at close is purged and
    reported. produced = delivered + failed, and the broker holds exactly the delivered ones."""
    producer = EventProducer(kafka.bootstrap, {"message.timeout.ms": "2000"})
    producer.produce("ops.alerts", alert(0))
    producer.flush()  # connected, producer id settled
    kafka.broker_down()
    tags = {f"event {n}" for n in range(1, 41)}
    for n in range(1, 21):
        producer.produce("ops.alerts", alert(n))
    wait_for(lambda: rejected(producer, 20), 30, "the outage's events to time out")
    for n in range(21, 41):
        producer.produce("ops.alerts", alert(n))
    kafka.broker_up()
    failures = producer.close(timeout_s=30)

    failed = producer.delivery_errors
    assert producer.produced == 41 and producer.delivered + failed == 41
    assert failed >= 20 and len(failures) == failed  # each failure handed over once, none before
    on_broker = _consumed(kafka.bootstrap, tags)
    assert len(on_broker) == len(set(on_broker)) == producer.delivered - 1  # once each (alert 0 aside)


def test_close_purges_and_reports_events_a_dead_broker_never_takes(kafka: PrivateKafka) -> None:
    producer = EventProducer(kafka.bootstrap)  # the default timeout: they would wait 10 s
    producer.produce("ops.alerts", alert(0))
    producer.flush()
    kafka.broker_down()
    for n in range(1, 11):
        producer.produce("ops.alerts", alert(n))
    failures = producer.close(timeout_s=0.5)
    assert len(failures) == 10 and producer.delivered == 1
    reported = delivery_alert(failures, now())
    assert reported is not None and reported.message.startswith("10 event(s) not delivered")


def test_feeds_stopping_while_the_broker_is_away_stores_the_count_it_could_not_deliver(
    kafka: PrivateKafka, database: str
) -> None:
    settings = FeedSettings(clob_url="http://127.0.0.1:9", stats_interval_s=60.0, clock_interval_s=60.0)
    feeds = Feeds(settings, kafka.bootstrap, database, only=set())
    feeds.producer.produce("ops.alerts", alert(0))
    feeds.producer.flush()
    kafka.broker_down()
    for n in range(1, 8):
        feeds.producer.produce("ops.alerts", alert(n))
    feeds.close()
    [(_kind, severity, message)] = alert_rows(database)
    assert severity == "CRITICAL" and message.startswith("7 event(s) not delivered")
