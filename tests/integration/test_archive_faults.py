"""The recorder rides out what a consumer group's life brings: a broker going away and coming back,
commits refused mid-rebalance, and a second recorder joining the group by mistake. After each, it
is still running, and the archive reads back every event exactly once.

Each test runs a private mock cluster in this process, whose fault calls the test drives.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest
from confluent_kafka import Consumer, TopicPartition

from connectors.kafka import EventProducer, consumer_config
from core.models import Alert
from core.serde import encode
from infra import stack
from sinks.archive import ArchiveWriter
from sinks.archive_reader import archive_counts, read_archive
from sinks.archive_recorder import Recorder
from tests.archive_events import one_of_each
from tests.integration.private_kafka import PrivateKafka, private_kafka

ORACLE = TopicPartition("md.oracle", 0)


@pytest.fixture
def cluster() -> Iterator[PrivateKafka]:
    with private_kafka() as kafka:
        yield kafka


def _base() -> datetime:
    return datetime(2032, 1, 1, tzinfo=UTC) + timedelta(seconds=random.randrange(300 * 86400))


def _recorder(bootstrap: str, archive: Path, group: str = "archive", *, roll_rows: int = 1) -> Recorder:
    consumer = Consumer(
        consumer_config(bootstrap, group, embedded=True, client_config={"auto.offset.reset": "error"})
    )
    writer = ArchiveWriter(archive, roll_rows=roll_rows, roll_s=3600)
    alerts: list[Alert] = []
    return Recorder(consumer, ["md.oracle"], writer, alerts.append, start="earliest")


def _until(done: Callable[[], bool], *recorders: Recorder, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "the recorders did not get there in time"
        for recorder in recorders:
            recorder.step()


def _produce(bootstrap: str, base: datetime, first: int, count: int) -> list[bytes]:
    producer = EventProducer(bootstrap)
    events = [
        one_of_each(base + timedelta(seconds=n), f"fault:{n}")["md.oracle"]
        for n in range(first, first + count)
    ]
    for event in events:
        producer.produce("md.oracle", event)
    producer.flush()
    assert producer.delivery_errors == 0
    return [encode(e) for e in events]


def _committed(recorder: Recorder) -> int:
    offset: int = recorder.consumer.committed([ORACLE], timeout=10)[0].offset
    return offset


def _replayed(archive: Path, base: datetime) -> list[bytes]:
    return [e.value for e in read_archive(archive, ["md.oracle"], base, base + timedelta(hours=1))]


def test_refused_commits_are_counted_and_retried_and_recording_goes_on(
    cluster: PrivateKafka, tmp_path: Path
) -> None:
    base = _base()
    recorder = _recorder(cluster.bootstrap, tmp_path)
    _until(lambda: bool(recorder.assigned), recorder)
    cluster.fail_commit_requests(3)
    sent = _produce(cluster.bootstrap, base, 0, 10)
    _until(lambda: recorder.stats.archived >= 10, recorder)
    assert recorder.stats.commit_failures >= 1
    more = _produce(cluster.bootstrap, base, 10, 5)  # later commits go through and cover the refused ones
    _until(lambda: _committed(recorder) == 15, recorder)
    recorder.close()
    assert _replayed(tmp_path, base) == sent + more


def test_a_broker_outage_stops_nothing_and_the_archive_holds_every_event_once(
    cluster: PrivateKafka, tmp_path: Path
) -> None:
    base = _base()
    recorder = _recorder(cluster.bootstrap, tmp_path, roll_rows=1000)
    _until(lambda: bool(recorder.assigned), recorder)
    before = _produce(cluster.bootstrap, base, 0, 10)
    _until(lambda: recorder.stats.archived >= 10, recorder)  # buffered, not yet committed

    cluster.broker_down()
    for _ in range(30):  # the recorder keeps polling a broker that is away
        recorder.step()
    recorder.close()  # the final commit cannot reach the broker: counted, not raised
    assert recorder.stats.commit_failures >= 1
    cluster.broker_up()

    after = _produce(cluster.bootstrap, base, 10, 10)
    second = _recorder(cluster.bootstrap, tmp_path)  # starts from the last commit: re-reads 0..9
    _until(lambda: second.stats.archived >= 20, second)
    second.close()
    assert _replayed(tmp_path, base) == before + after


def test_a_second_recorder_in_the_group_shares_the_work_and_both_keep_running(
    cluster: PrivateKafka, tmp_path: Path
) -> None:
    base = _base()
    first = _recorder(cluster.bootstrap, tmp_path)
    _until(lambda: bool(first.assigned), first)
    sent = _produce(cluster.bootstrap, base, 0, 10)
    _until(lambda: first.stats.archived >= 10, first)
    second = _recorder(cluster.bootstrap, tmp_path)  # started by mistake: the group rebalances
    _until(lambda: first.stats.revocations >= 1 and len(first.assigned | second.assigned) == 1, first, second)
    sent += _produce(cluster.bootstrap, base, 10, 10)
    _until(lambda: len(_replayed(tmp_path, base)) == 20, first, second)
    owner, other = (first, second) if first.assigned else (second, first)
    owner.close()  # the owner leaves: the partition moves to the other one, nothing is lost
    sent += _produce(cluster.bootstrap, base, 20, 5)
    _until(lambda: len(_replayed(tmp_path, base)) == 25, other)
    other.close()
    assert _replayed(tmp_path, base) == sent
    assert sum(archive_counts(tmp_path, ["md.oracle"]).values()) == 25


def test_a_broker_that_lost_its_log_is_reported_with_where_the_archive_hole_starts(
    endpoints: stack.Endpoints, tmp_path: Path
) -> None:
    """The embedded broker killed and started again (same address, empty log): the running recorder
    rejoins, says the log was reset and since when the archive may miss events, and records on."""
    kafka_dir, archive = tmp_path / "stack", tmp_path / "archive"
    bootstrap = stack.up(kafka_dir, endpoints.database_url, None, {}, 30).kafka_bootstrap
    try:
        base = _base()
        consumer = Consumer(
            consumer_config(bootstrap, "archive", embedded=True, client_config={"auto.offset.reset": "error"})
        )
        alerts: list[Alert] = []
        recorder = Recorder(
            consumer, ["md.oracle"], ArchiveWriter(archive, roll_rows=1, roll_s=3600), alerts.append
        )
        _until(lambda: bool(recorder.assigned), recorder)
        before = _produce(bootstrap, base, 0, 5)
        _until(lambda: recorder.stats.archived >= 5, recorder)
        assert alerts == []  # a first start on an empty archive is no loss

        pid = int((kafka_dir / "kafka.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        psutil.Process(pid).wait(10)
        assert stack.up(kafka_dir, endpoints.database_url, None, {}, 30).kafka_bootstrap == bootstrap

        after = _produce(bootstrap, base, 5, 5)
        _until(lambda: recorder.stats.archived >= 10, recorder)
        recorder.close()
        assert [a.alert_kind for a in alerts] == ["archive.broker_reset"]
        assert f"md.oracle after {(base + timedelta(seconds=4)).isoformat()}" in alerts[0].message
        assert _replayed(archive, base) == before + after
    finally:
        stack.down(kafka_dir)
