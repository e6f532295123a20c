"""A consumer that falls behind by more than the mock's 5 MB per partition loses nothing on the real
broker (the mock drops the oldest records past that; the real one keeps them for the declared
retention)."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from confluent_kafka import TopicPartition

from connectors.kafka import EventProducer, decode_message, new_consumer
from core.ids import TokenId
from core.models import BookSnapshot, Level
from tests.kafka_real.conftest import RealCluster
from tests.trading_builders import CONDITION

pytestmark = [pytest.mark.stack, pytest.mark.timeout(240)]

LEVELS = tuple(Level(price=Decimal(p) / 100, size=Decimal("12345.67")) for p in range(1, 100))
BEHIND_BYTES = 8 * 1024 * 1024  # past the mock's 5 MB per partition


def test_a_consumer_more_than_5_mb_behind_on_one_partition_reads_every_event(
    real_cluster: RealCluster,
) -> None:
    token = TokenId(f"9{uuid.uuid4().int % 10**20}")  # one key: one partition of md.book
    producer = EventProducer(real_cluster.bootstrap)
    sent: list[str] = []
    size = 0
    while size < BEHIND_BYTES:
        at = datetime.now(UTC)
        event = BookSnapshot(
            source_ts=at,
            recv_ts=at,
            source_id=f"lag-{len(sent)}",
            token_id=token,
            condition_id=CONDITION,
            bids=LEVELS,
            asks=LEVELS,
        )
        producer.produce("md.book", event)
        sent.append(f"lag-{len(sent)}")
        size += len(event.model_dump_json())
        if len(sent) % 200 == 0:
            producer.poll(0)
    producer.flush(60)

    consumer = new_consumer(
        real_cluster.bootstrap, f"lag-{uuid.uuid4().hex[:8]}", ["md.book"], embedded=False
    )
    got: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while len(got) < len(sent) and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None or msg.error():
                continue
            event = decode_message(msg)
            if event.token_id == token:
                got.append(event.source_id)
        lows = [consumer.get_watermark_offsets(TopicPartition("md.book", p), timeout=10)[0] for p in range(6)]
    finally:
        consumer.close()
    assert got == sent, f"read {len(got)} of {len(sent)} events ({size / 2**20:.1f} MB behind)"
    assert lows == [0] * 6  # nothing was dropped from the start of any partition
