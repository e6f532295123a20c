"""Archive throughput: events archived per second, bytes per event on disk, events read back per second.

A realistic md.book mix (a 20-level snapshot every 10 events, single-level deltas between) is
1. archived straight through `ArchiveWriter` (decode + row + Parquet, no Kafka),
2. archived by the recorder from the local stack's Kafka (produced first, then consumed as a burst),
3. read back with `read_archive` in recv_ts order.
Last line: one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from confluent_kafka import Consumer, Producer

from connectors.kafka import consumer_config, producer_config
from core.serde import decode, encode
from infra import stack
from polywindow.settings import StackSettings, load
from sinks.archive import ArchiveRow, ArchiveWriter
from sinks.archive_reader import read_archive
from sinks.archive_recorder import Recorder

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the shared event builders live in tests/
from tests.archive_events import book_mix

TOPIC = "md.book"


def _endpoints() -> stack.Endpoints:
    settings = load(StackSettings)
    url = settings.database_url.get_secret_value() if settings.database_url else None
    return stack.endpoints(settings.stack_dir, url, settings.kafka_bootstrap_servers)


def _disk_bytes(archive: Path) -> int:
    return sum(p.stat().st_size for p in archive.rglob("part-*.parquet"))


def writer_only(values: list[bytes], archive: Path, roll_rows: int) -> dict[str, float]:
    writer = ArchiveWriter(archive, roll_rows=roll_rows, roll_s=3600)
    wall = datetime.now(UTC)
    start = time.perf_counter()
    for n, value in enumerate(values):
        event = decode(TOPIC, value)
        writer.add(
            ArchiveRow(TOPIC, n % 6, n, b"k", value, event.kind, event.source_ts, event.recv_ts, wall),
            0.0,
            wall,
        )
    writer.close_all()
    elapsed = time.perf_counter() - start
    return {
        "writer_events_per_s": round(len(values) / elapsed),
        "disk_bytes_per_event": round(_disk_bytes(archive) / len(values), 1),
        "parts": writer.parts_written,
    }


def through_kafka(
    eps: stack.Endpoints, values: list[bytes], archive: Path, roll_rows: int
) -> dict[str, float]:
    consumer = Consumer(
        consumer_config(
            eps.kafka_bootstrap,
            f"bench-archive-{uuid.uuid4()}",
            embedded=eps.kafka_embedded,
            client_config={"auto.offset.reset": "error"},
        )
    )
    alerts: list[object] = []
    recorder = Recorder(
        consumer,
        [TOPIC],
        ArchiveWriter(archive, roll_rows=roll_rows, roll_s=3600),
        alerts.append,
        start="end",
    )
    while len(recorder.assigned) < 6:
        recorder.step()
    producer = Producer(producer_config(eps.kafka_bootstrap) | {"linger.ms": 20})
    for n, value in enumerate(values):
        while True:
            try:
                producer.produce(TOPIC, key=str(n % 60).encode(), value=value)  # spread over partitions
                break
            except BufferError:
                producer.poll(0.01)
    producer.flush(60)
    start = time.perf_counter()
    while recorder.stats.archived < len(values) and time.perf_counter() - start < 120:
        recorder.step()
    recorder.close()
    elapsed = time.perf_counter() - start
    return {
        "recorder_events_per_s": round(recorder.stats.archived / elapsed),
        "recorder_archived": recorder.stats.archived,
        "recorder_lost": recorder.stats.lost_records,
    }


def read_back(archive: Path, first: datetime, count: int) -> dict[str, float]:
    start = time.perf_counter()
    n = sum(1 for _ in read_archive(archive, [TOPIC], first, first + timedelta(milliseconds=count)))
    elapsed = time.perf_counter() - start
    return {"read_events_per_s": round(n / elapsed), "read_events": n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--roll-rows", type=int, default=50_000)
    args = parser.parse_args()
    first = datetime(2031, 6, 1, tzinfo=UTC)
    events = book_mix(first, args.count, seed=1)
    values = [encode(e) for e in events]
    figures: dict[str, object] = {
        "bench": "archive",
        "events": args.count,
        "json_bytes_per_event": round(sum(map(len, values)) / len(values), 1),
        "roll_rows": args.roll_rows,
    }
    with tempfile.TemporaryDirectory() as tmp:
        written = writer_only(values, Path(tmp) / "writer", args.roll_rows)
        figures |= written
        figures |= read_back(Path(tmp) / "writer", first, args.count)
        figures |= through_kafka(_endpoints(), values, Path(tmp) / "recorder", args.roll_rows)
    figures["compression_ratio"] = round(
        sum(map(len, values)) / len(values) / written["disk_bytes_per_event"], 1
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
