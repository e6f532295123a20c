"""Three brokers, replication factor 3: the leader of the `trade.intents` partition that intents are
flowing to is cut off the network (its own namespace's link down; killed where namespaces are not
possible). No acknowledged intent is lost or doubled, and the producer and the two members of a
consumer group (as the executor and the sinks run) carry on without a restart."""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from confluent_kafka import KafkaError, KafkaException, Message, Producer

from connectors.kafka import decode_message, new_consumer, producer_config
from core.enums import OrderType, Side, TradingMode
from core.ids import ClientOrderId, TokenId, WindowId
from core.models import OrderIntent
from core.serde import encode
from core.topics import topic
from tests.kafka_real.conftest import RealCluster

pytestmark = [pytest.mark.stack, pytest.mark.timeout(300)]


def _intent(window: str, n: int) -> OrderIntent:
    return OrderIntent(
        client_order_id=ClientOrderId(f"{uuid.uuid4().hex[:8]}{n:08d}"),
        signal_id=f"{window}:{n}",
        window_id=WindowId(window),
        strategy="canary",
        token_id=TokenId("123"),
        side=Side.BUY,
        order_type=OrderType.FAK,
        limit_price=Decimal("0.50"),
        size=Decimal("6"),
        mode=TradingMode.DRY_RUN,
        event_ts=datetime.now(UTC),
    )


class Members:
    """Two members of one consumer group, each committing after it has written what it read."""

    def __init__(self, bootstrap: str, window: str) -> None:
        self.group = f"failover-{uuid.uuid4().hex[:8]}"
        self.bootstrap, self.window = bootstrap, window
        self.written: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(2)]
        for t in self.threads:
            t.start()

    def _run(self) -> None:
        consumer = new_consumer(self.bootstrap, self.group, ["trade.intents"], embedded=False)
        try:
            while not self.stop.is_set():
                msg = consumer.poll(0.5)
                if msg is None or msg.error():
                    continue
                intent = decode_message(msg)
                if intent.window_id == self.window:
                    with self.lock:
                        self.written[intent.signal_id] += 1
                # a commit refused during the failover is fine: the record may come again
                with contextlib.suppress(KafkaException):
                    consumer.commit(message=msg, asynchronous=False)
        finally:
            consumer.close()

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)


def test_the_intents_leader_cut_off_loses_and_doubles_no_acknowledged_intent(
    real_cluster: RealCluster,
) -> None:
    window = f"btc-updown-5m-{uuid.uuid4().hex[:10]}"
    acked: list[str] = []
    failed: list[str] = []
    partitions: set[int] = set()

    def on_delivery(err: KafkaError | None, msg: Message) -> None:
        sid = decode_message(msg).signal_id if err is None else msg.key()
        (failed if err else acked).append(str(sid))
        partitions.add(msg.partition() or 0)

    producer = Producer(producer_config(real_cluster.bootstrap))
    members = Members(real_cluster.bootstrap, window)
    spec = topic("trade.intents")
    sent = 0

    def produce_for(seconds: float) -> None:
        nonlocal sent
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            intent = _intent(window, sent)
            producer.produce(
                spec.name, key=spec.key_of(intent), value=encode(intent), on_delivery=on_delivery
            )
            sent += 1
            producer.poll(0.02)

    produce_for(3.0)
    producer.flush(30)
    assert len(partitions) == 1 and acked, (partitions, len(acked), failed[:3])
    partition = partitions.pop()
    leader = real_cluster.leader_of("trade.intents", partition)
    before_cut = len(acked)
    real_cluster.cut(leader)
    try:
        deadline = time.monotonic() + 120
        while len(acked) < before_cut + 100 and time.monotonic() < deadline:
            produce_for(1.0)  # the producer keeps going through the failover, never restarted
        assert len(acked) >= before_cut + 100, (
            f"{len(acked) - before_cut} acknowledged after the cut in 120 s"
        )
        assert real_cluster.leader_of("trade.intents", partition) != leader
        producer.flush(60)
        deadline = time.monotonic() + 90
        while not set(acked) <= set(members.written) and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        members.close()
        real_cluster.heal(leader)
    missing = set(acked) - set(members.written)
    assert not missing, f"{len(missing)} acknowledged intents never reached the group ({len(acked)} acked)"
    in_log = _log_counts(real_cluster, window)
    assert [sid for sid in acked if in_log[sid] != 1] == [], (
        "an acknowledged intent is not in the log exactly once"
    )
    # Those produced while no leader answered time out after 10 s (DELIVERY_TIMEOUT_MS): reported as
    # delivery failures to the producer, never acknowledged, so never counted as lost here.
    assert len(acked) + len(failed) == sent


def _log_counts(real_cluster: RealCluster, window: str) -> Counter[str]:
    """How often each intent of `window` is in the log, read from the start by a new group."""
    consumer = new_consumer(
        real_cluster.bootstrap, f"audit-{uuid.uuid4().hex[:8]}", ["trade.intents"], embedded=False
    )
    counts: Counter[str] = Counter()
    try:
        idle_until = time.monotonic() + 10
        while time.monotonic() < idle_until:
            msg = consumer.poll(1.0)
            if msg is None or msg.error():
                continue
            intent = decode_message(msg)
            if intent.window_id == window:
                counts[intent.signal_id] += 1
                idle_until = time.monotonic() + 5
    finally:
        consumer.close()
    return counts
