"""The embedded broker comes back on the same address after it is killed, so clients created
before the kill reconnect by themselves (issue: a restarted mock broker used to get a new port)."""

from __future__ import annotations

import os
import signal
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest
from confluent_kafka import Consumer, TopicPartition

from connectors.kafka import EventProducer, consumer_config, decode_message
from core.enums import Severity
from core.models import Alert
from infra import stack

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]


def _alert(tag: str) -> Alert:
    return Alert(alert_kind="test.restart", severity=Severity.INFO, message=tag, event_ts=datetime.now(UTC))


def test_a_killed_broker_started_again_has_the_same_address_and_old_clients_carry_on(
    endpoints: stack.Endpoints, tmp_path: Path
) -> None:
    first = stack.up(tmp_path, endpoints.database_url, None, {}, 30)
    producer = EventProducer(first.kafka_bootstrap)
    producer.produce("ops.alerts", _alert("before"))
    producer.flush()
    try:
        pid = int((tmp_path / "kafka.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        psutil.Process(pid).wait(10)

        again = stack.up(tmp_path, endpoints.database_url, None, {}, 30)
        assert again.kafka_bootstrap == first.kafka_bootstrap

        tag = uuid.uuid4().hex
        producer.produce("ops.alerts", _alert(tag))  # the producer made before the kill
        producer.flush(30)
        consumer = Consumer(consumer_config(again.kafka_bootstrap, f"t-{tag}", embedded=True))
        consumer.assign([TopicPartition("ops.alerts", p, 0) for p in range(_partitions(consumer))])
        seen: list[str] = []
        for _ in range(200):
            msg = consumer.poll(0.1)
            if msg is not None and msg.error() is None:
                seen.append(decode_message(msg).message)
            if tag in seen:
                break
        consumer.close()
        assert tag in seen
    finally:
        stack.down(tmp_path)


def _partitions(consumer: Consumer) -> int:
    return len(consumer.list_topics("ops.alerts", timeout=10).topics["ops.alerts"].partitions)
