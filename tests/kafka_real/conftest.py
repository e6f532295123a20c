"""The real-engine tier: one Apache Kafka cluster of three brokers (KRaft, `make kafka`'s jars) for
the whole session, started once (a JVM start on two busy cores is slow) by the stack code itself in
a stack dir of its own beside the session's, and stopped at the end.

The brokers run in network namespaces of their own when the tests run as root (each its own
address, so `cut` is a real network fault); elsewhere `cut` kills the broker's process instead.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from infra import apache_kafka, netns, stack

BROKERS = 3


@dataclass
class RealCluster:
    stack_dir: Path
    bootstrap: str
    layout: apache_kafka.Layout

    @property
    def real_network(self) -> bool:
        return self.layout.netns_tag is not None

    def admin(self) -> AdminClient:
        return AdminClient({"bootstrap.servers": self.bootstrap})

    def leader_of(self, topic_name: str, partition: int) -> int:
        meta = self.admin().list_topics(topic_name, timeout=10).topics[topic_name]
        return int(meta.partitions[partition].leader)

    def cut(self, node_id: int) -> None:
        """Take broker `node_id` off: its network link down (namespaces), else its process killed."""
        net = self.layout.net()
        if net is not None:
            net.cut(node_id)
        else:
            apache_kafka.stop_broker(self.stack_dir, node_id, signal.SIGKILL)

    def heal(self, node_id: int) -> None:
        """Bring broker `node_id` back, at the same address with its data, and wait for all brokers."""
        net = self.layout.net()
        if net is not None:
            net.heal(node_id)
        else:
            broker = next(b for b in self.layout.brokers if b.node_id == node_id)
            apache_kafka.start_broker(self.stack_dir, self.layout, broker)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # every partition back to a full ISR
            topics = self.admin().list_topics(timeout=10).topics
            if all(len(p.isrs) == BROKERS for t in topics.values() for p in t.partitions.values()):
                return
            time.sleep(0.5)
        raise AssertionError(f"broker {node_id} did not rejoin every ISR within 120 s")


@pytest.fixture(scope="session")
def real_cluster(
    endpoints: stack.Endpoints, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RealCluster]:
    """Three brokers, replication factor 3, the declared topics created by the AdminClient."""
    stack_dir = Path(os.environ["POLYWINDOW_STACK_DIR"]).parent / "kafka-real"
    try:
        found = stack.up(
            stack_dir,
            endpoints.database_url,
            None,
            {},
            60.0,
            kafka_engine="apache",
            kafka_brokers=BROKERS,
            kafka_netns=netns.available(),
        )
    except stack.StackError as exc:
        stack.down(stack_dir)
        pytest.fail(f"the Apache Kafka cluster did not start: {exc}")
    layout = apache_kafka.load_layout(stack_dir)
    assert layout is not None
    try:
        yield RealCluster(stack_dir, found.kafka_bootstrap, layout)
    finally:
        stack.down(stack_dir)
