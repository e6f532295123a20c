"""The recorder on real Kafka: every md.* topic archived byte-identical, crash recovery, rolling by
rows, and a committed offset the broker dropped reported loudly.

The shared stack's topics carry other tests' records too, so each test uses its own consumer group
starting at the current end, and events dated in a year of their own, read back by time range.
Offset loss floods partitions past the mock's ~5 MB, so that test runs its own private mock cluster.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from confluent_kafka import Consumer, Producer, TopicPartition

from connectors.kafka import EventProducer, consumer_config
from core.models import Alert
from core.serde import encode
from core.topics import TOPICS, topic
from infra import stack
from sinks.archive import ArchiveWriter, day_dir, part_files
from sinks.archive_reader import archive_counts, read_archive
from sinks.archive_recorder import Recorder, Start
from tests.archive_events import one_of_each

MD = [t.name for t in TOPICS if t.name.startswith("md.")]


def _base() -> datetime:
    """A time no other test's events use: a random second of 2031."""
    return datetime(2031, 1, 1, tzinfo=UTC) + timedelta(seconds=random.randrange(300 * 86400))


def _recorder(
    bootstrap: str,
    embedded: bool,
    group: str,
    archive: Path,
    topics: list[str],
    alerts: list[Alert],
    *,
    roll_rows: int = 10_000,
    batch_size: int = 1000,
    start: Start = "end",
) -> Recorder:
    consumer = Consumer(
        consumer_config(bootstrap, group, embedded=embedded, client_config={"auto.offset.reset": "error"})
    )
    writer = ArchiveWriter(archive, roll_rows=roll_rows, roll_s=3600)
    recorder = Recorder(consumer, topics, writer, alerts.append, start=start, batch_size=batch_size)
    wanted = sum(topic(t).partitions for t in topics)
    deadline = time.monotonic() + 30
    while len(recorder.assigned) < wanted:  # joined the group and placed at the end before we produce
        assert time.monotonic() < deadline, "the recorder was not assigned its partitions"
        recorder.step()
    return recorder


def _has(recorder: Recorder, *markers: str) -> bool:
    """Every marker appears in some value the recorder has read and still buffers."""
    values = [r.value for r in recorder.writer.pending()]
    return all(any(m.encode() in v for v in values) for m in markers)


def _until(recorder: Recorder, done: Callable[[], bool], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "the recorder did not catch up"
        recorder.step()


def test_every_md_topic_is_archived_byte_identical_and_read_back_in_recv_ts_order(
    endpoints: stack.Endpoints, tmp_path: Path
) -> None:
    alerts: list[Alert] = []
    recorder = _recorder(
        endpoints.kafka_bootstrap, endpoints.kafka_embedded, f"archive-{uuid.uuid4()}", tmp_path, MD, alerts
    )
    base, run = _base(), uuid.uuid4().hex
    sent: list[tuple[str, bytes, datetime]] = []
    producer = EventProducer(endpoints.kafka_bootstrap)
    for n in range(4):  # produced newest first: the archive must put them back in recv_ts order
        ts = base + timedelta(seconds=3 - n, microseconds=n)
        for name, event in one_of_each(ts, f"{run}:{n}").items():
            producer.produce(name, event)
            sent.append((name, encode(event), ts))
    producer.flush()
    raw = Producer({"bootstrap.servers": endpoints.kafka_bootstrap})
    malformed = f'{{"run": "{run}", "not": "a spot tick"}}'.encode()
    raw.produce("md.spot", key=b"btcusdt", value=malformed)
    raw.flush(10)

    markers = [f"{run}:{n}:" for n in range(4)] + [f'"run": "{run}"']
    _until(
        recorder,
        lambda: (
            _has(recorder, *markers)
            and sum(_has(recorder, f"{run}:{n}:{c}") for n in range(4) for c in "tosw") == 16
        ),
    )
    recorder.close()

    got = list(read_archive(tmp_path, MD, base - timedelta(seconds=1), base + timedelta(seconds=5)))
    expected = sorted(sent, key=lambda s: (s[2], s[0]))
    assert [(e.topic, e.value, e.recv_ts) for e in got] == expected
    assert all(e.key for e in got)
    now = datetime.now(UTC)
    around_now = list(read_archive(tmp_path, ["md.spot"], now - timedelta(hours=1), now + timedelta(hours=1)))
    assert malformed in [e.value for e in around_now]  # kept as received, at its Kafka time
    assert alerts == []


# The first recorder runs in a child process that dies by SIGKILL: no close, no revoke callback, no
# commit. It reads offsets 0..11 (parts of 5 rows: 0..4 and 5..9 closed and committed), writes 10..11
# to a part it never commits, then reads 12..14 into memory only, and is killed.
_CRASHING_RECORDER = """
import os, signal, sys
from pathlib import Path
from confluent_kafka import Consumer
from connectors.kafka import consumer_config
from sinks.archive import ArchiveWriter
from sinks.archive_recorder import Recorder
bootstrap, group, archive = sys.argv[1:4]
consumer = Consumer(consumer_config(bootstrap, group, embedded=True, client_config={"auto.offset.reset": "error"}))
recorder = Recorder(consumer, ["md.oracle"], ArchiveWriter(Path(archive), roll_rows=5, roll_s=3600), print, batch_size=5)
def until(n):
    while recorder.stats.archived < n:
        recorder.step()
while not recorder.assigned:
    recorder.step()
print("ready", flush=True)
until(12)
recorder.writer.close_all()
print("part written, not committed", flush=True)
until(15)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_crash_before_parts_are_committed_loses_nothing_and_reads_each_record_once(
    private_kafka: str, tmp_path: Path
) -> None:
    group, alerts = "archive", list[Alert]()
    producer = EventProducer(private_kafka)
    base = _base()
    events = [one_of_each(base + timedelta(seconds=n), f"crash:{n}")["md.oracle"] for n in range(15)]
    child = subprocess.Popen(
        [sys.executable, "-c", _CRASHING_RECORDER, private_kafka, group, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    for event in events[:12]:
        producer.produce("md.oracle", event)
    producer.flush()
    assert child.stdout.readline().strip() == "part written, not committed"
    for event in events[12:]:
        producer.produce("md.oracle", event)
    producer.flush()
    assert child.wait(timeout=60) == -9
    directory = day_dir(tmp_path, "md.oracle", base.date())
    (directory / ".part-dying.parquet.tmp").write_bytes(b"PAR1 half")  # what a crash mid-write leaves

    second = _recorder(private_kafka, True, group, tmp_path, ["md.oracle"], alerts, start="earliest")
    _until(second, lambda: second.stats.archived >= 5)  # everything from the last commit (10) again
    second.close()

    on_disk = sum(pq.read_metadata(p).num_rows for p in part_files(directory))
    assert on_disk == 12 + 5  # the re-read copies of 10..11 are really there...
    got = list(read_archive(tmp_path, ["md.oracle"], base, base + timedelta(minutes=1)))
    assert [e.value for e in got] == [encode(e) for e in events]  # ...and read once each
    assert archive_counts(tmp_path, ["md.oracle"]) == {("md.oracle", base.date()): len(events)}
    assert second.stats.archived == 5 and alerts == []


@pytest.fixture
def private_kafka(tmp_path: Path) -> Iterator[str]:
    """A mock cluster of our own with one md.oracle partition, so flooding it disturbs nobody."""
    bootstrap_file = tmp_path / "kafka.bootstrap"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "infra.mock_kafka",
            "--bootstrap-file",
            str(bootstrap_file),
            "--topics",
            json.dumps([["md.oracle", 1]]),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        deadline = time.monotonic() + 30
        while not bootstrap_file.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "private mock Kafka did not start"
            time.sleep(0.05)
        yield bootstrap_file.read_text().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_part_is_closed_every_roll_rows_and_offsets_commit_with_it(
    private_kafka: str, tmp_path: Path
) -> None:
    alerts: list[Alert] = []
    recorder = _recorder(private_kafka, True, "archive-rows", tmp_path, ["md.oracle"], alerts, roll_rows=4)
    base, producer = _base(), EventProducer(private_kafka)
    for n in range(10):
        producer.produce("md.oracle", one_of_each(base + timedelta(seconds=n), f"rows:{n}")["md.oracle"])
    producer.flush()
    _until(recorder, lambda: recorder.stats.archived >= 10)
    directory = day_dir(tmp_path, "md.oracle", base.date())
    assert sorted(pq.read_metadata(p).num_rows for p in part_files(directory)) == [4, 4]
    assert recorder.consumer.committed([TopicPartition("md.oracle", 0)], timeout=10)[0].offset == 8
    recorder.close()  # the last two rows become a third part, and their offsets are committed
    assert sorted(pq.read_metadata(p).num_rows for p in part_files(directory)) == [2, 4, 4]
    assert len(list(read_archive(tmp_path, ["md.oracle"], base, base + timedelta(seconds=10)))) == 10


def _flood(bootstrap: str, count: int = 8000) -> None:
    """~8 MB into md.oracle[0]: past the mock's ~5 MB, so its oldest records are dropped."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    filler = b'{"filler": "' + b"x" * 1000 + b'"}'
    for n in range(count):
        producer.produce("md.oracle", key=b"btc/usd", value=filler)
        if n % 500 == 0:
            producer.flush(10)
    producer.flush(30)


def test_a_committed_offset_the_broker_dropped_is_reported_with_its_range(
    private_kafka: str, tmp_path: Path
) -> None:
    group, alerts = "archive", list[Alert]()
    first = _recorder(
        private_kafka, True, group, tmp_path, ["md.oracle"], alerts, roll_rows=1, start="earliest"
    )
    producer = EventProducer(private_kafka)
    base = _base()
    for n in range(3):
        producer.produce("md.oracle", one_of_each(base + timedelta(seconds=n), f"r:{n}")["md.oracle"])
    producer.flush()
    _until(first, lambda: first.stats.archived >= 3)
    first.close()  # committed at offset 3; the recorder is down while the broker keeps filling

    _flood(private_kafka)
    probe = Consumer({"bootstrap.servers": private_kafka, "group.id": "probe"})
    low, high = probe.get_watermark_offsets(TopicPartition("md.oracle", 0), timeout=10, cached=False)
    probe.close()
    assert low > 3

    second = _recorder(
        private_kafka, True, group, tmp_path, ["md.oracle"], alerts, roll_rows=100_000, start="earliest"
    )
    assert (second.stats.loss_events, second.stats.lost_records) == (1, low - 3)
    assert [a.alert_kind for a in alerts] == ["archive.offsets_lost"]
    assert "md.oracle[0]" in alerts[0].message and f"3..{low - 1}" in alerts[0].message
    _until(second, lambda: second.stats.archived >= high - low)
    assert second.stats.archived == high - low  # carried on from the oldest record still there
    assert second.stats.malformed == high - low  # the filler is not an OracleTick, archived all the same
    second.close()


def test_falling_behind_the_broker_while_running_is_reported_and_recording_goes_on(
    private_kafka: str, tmp_path: Path
) -> None:
    alerts: list[Alert] = []
    recorder = _recorder(
        private_kafka, True, "archive-running", tmp_path, ["md.oracle"], alerts, roll_rows=100_000
    )
    tp = TopicPartition("md.oracle", 0)
    recorder.consumer.pause([tp])  # a stalled fetcher: the broker drops what it has not read
    _flood(private_kafka)
    low, high = recorder.consumer.get_watermark_offsets(tp, timeout=10, cached=False)
    assert low > 0
    recorder.consumer.resume([tp])
    _until(recorder, lambda: recorder.stats.loss_events >= 1 and recorder.stats.archived >= high - low)
    assert recorder.stats.lost_records == low  # offsets 0..low-1 were never read
    assert alerts and "md.oracle[0]" in alerts[0].message
    recorder.close()
    assert archive_counts(tmp_path, ["md.oracle"]) and sum(archive_counts(tmp_path).values()) == high - low
