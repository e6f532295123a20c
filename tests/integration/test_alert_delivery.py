"""Alerts raised on ops.alerts by any process are delivered by the sink through apprise to the
operator's webhook (a local HTTP receiver here): once, though the topic carries it twice."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from confluent_kafka import Consumer
from psycopg_pool import ConnectionPool
from pydantic import SecretStr

from connectors.kafka import EventProducer, consumer_config
from core.enums import Severity
from core.models import Alert
from sinks.alerts import Notifier
from sinks.postgres.alert_delivery import AlertDeliveryLog
from sinks.postgres.alert_table import AlertTableSink
from sinks.postgres.migrate import migrate
from tests.integration.private_kafka import PrivateKafka, private_kafka
from tests.integration.webhook_receiver import Receiver, webhook_receiver

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]


@pytest.fixture
def kafka() -> Iterator[PrivateKafka]:
    with private_kafka() as cluster:
        yield cluster


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as found:
        yield found


def test_an_alert_on_the_topic_twice_reaches_the_webhook_once(
    kafka: PrivateKafka, fresh_database: str, receiver: Receiver
) -> None:
    migrate(fresh_database)
    alert = Alert(
        alert_kind="order.unknown",
        severity=Severity.CRITICAL,
        message="order c1 UNKNOWN after 5 s",
        dedupe_key="c1",
        event_ts=datetime(2031, 5, 1, tzinfo=UTC),
    )
    producer = EventProducer(kafka.bootstrap)
    for _ in range(2):
        producer.produce("ops.alerts", alert)
    producer.flush(10)
    producer.close(1)
    with ConnectionPool(fresh_database, min_size=1, max_size=2, open=True) as pool:
        notifier = Notifier([SecretStr(receiver.url)], AlertDeliveryLog(pool), wait_max_s=0.1)
        consumer = Consumer(consumer_config(kafka.bootstrap, "alerts-delivery", embedded=True))
        sink = AlertTableSink(consumer, fresh_database, lambda q: None, deliver=notifier.notify)
        deadline = time.monotonic() + 60
        while sink.stats.consumed < 2:
            assert time.monotonic() < deadline, "the sink did not consume both copies"
            sink.step()
        sink.close()
    assert len(receiver.received) == 1 and "order c1 UNKNOWN" in receiver.received[0]["message"]
    with psycopg.connect(fresh_database) as conn:
        rows = conn.execute("SELECT delivered_at IS NOT NULL FROM alerts WHERE dedupe_key = 'c1'").fetchall()
    assert rows == [(True,)]
