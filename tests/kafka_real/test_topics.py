"""On the real engine the declared topics are created by the AdminClient with the declared settings,
and `ctl.controls` is compacted: a new consumer reads the latest value of every control."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import pytest
from confluent_kafka import TopicPartition
from confluent_kafka.admin import AlterConfigOpType, ConfigEntry, ConfigResource  # type: ignore[attr-defined]

from connectors.kafka import EventProducer, decode_message, new_consumer
from core.enums import ControlName
from core.models import ControlChange
from core.topics import TOPICS, replication_on, topic_config
from tests.kafka_real.conftest import BROKERS, RealCluster

pytestmark = [pytest.mark.stack, pytest.mark.timeout(240)]


def test_every_declared_topic_has_its_declared_partitions_replicas_and_settings(
    real_cluster: RealCluster,
) -> None:
    admin = real_cluster.admin()
    meta = admin.list_topics(timeout=10).topics
    for spec in TOPICS:
        partitions = meta[spec.name].partitions
        assert len(partitions) == spec.partitions, spec.name
        assert {len(p.replicas) for p in partitions.values()} == {replication_on(spec, BROKERS)}, spec.name
    resources = [ConfigResource(ConfigResource.Type.TOPIC, spec.name) for spec in TOPICS]
    described = {r.name: f.result() for r, f in admin.describe_configs(resources).items()}
    for spec in TOPICS:
        got = {k: described[spec.name][k].value for k in topic_config(spec, BROKERS)}
        assert got == topic_config(spec, BROKERS), spec.name
    assert described["ctl.controls"]["cleanup.policy"].value == "compact"


def _compact_quickly(real_cluster: RealCluster) -> None:
    """Roll segments every 200 ms and clean any dirt: compaction within seconds, not hours."""
    resource = ConfigResource(
        ConfigResource.Type.TOPIC,
        "ctl.controls",
        incremental_configs=[
            ConfigEntry("segment.ms", "200", incremental_operation=AlterConfigOpType.SET),
            ConfigEntry("min.cleanable.dirty.ratio", "0.01", incremental_operation=AlterConfigOpType.SET),
            ConfigEntry("max.compaction.lag.ms", "1000", incremental_operation=AlterConfigOpType.SET),
        ],
    )
    admin = real_cluster.admin()  # kept alive until the answer: a destroyed client fails its futures
    for future in admin.incremental_alter_configs([resource]).values():
        future.result()


def _read_all(bootstrap: str) -> list[ControlChange]:
    """Everything a consumer in a new group reads from the start of `ctl.controls` to its end."""
    consumer = new_consumer(bootstrap, f"controls-{uuid.uuid4().hex[:8]}", ["ctl.controls"], embedded=False)
    try:
        end = consumer.get_watermark_offsets(TopicPartition("ctl.controls", 0), timeout=10)[1]
        events: list[ControlChange] = []
        position, deadline = 0, time.monotonic() + 60
        while position < end and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None or msg.error():
                continue
            events.append(decode_message(msg))
            position = (msg.offset() or 0) + 1
        assert position >= end, f"read to {position} of {end} within 60 s"
        return events
    finally:
        consumer.close()


def test_a_new_consumer_of_the_compacted_controls_reads_the_latest_value_of_every_control(
    real_cluster: RealCluster,
) -> None:
    _compact_quickly(real_cluster)
    producer = EventProducer(real_cluster.bootstrap)
    latest: dict[str, str] = {}
    produced = 0

    def change(name: ControlName, value: str) -> None:
        nonlocal produced
        event = ControlChange(name=name, value=value, updated_by="test", updated_at=datetime.now(UTC))
        producer.produce("ctl.controls", event)
        latest[name.value] = value
        produced += 1

    for round_ in range(60):
        for name in ControlName:
            change(name, f"{name.value}-{round_}")
    producer.flush(30)
    deadline, events = time.monotonic() + 120, _read_all(real_cluster.bootstrap)
    while len(events) >= produced and time.monotonic() < deadline:
        # A segment rolls (and becomes cleanable) only when a record arrives after segment.ms.
        time.sleep(1.0)
        change(ControlName.KILL_SWITCH, f"filler-{produced}")
        producer.flush(30)
        events = _read_all(real_cluster.bootstrap)
    assert len(events) < produced, f"no compaction within 120 s ({len(events)} of {produced} records kept)"
    seen: dict[str, str] = {}
    for event in events:
        seen[event.name.value] = event.value
    assert seen == latest
