"""Reading the archive back for replays: one time-ordered, de-duplicated stream across topics.

Two kinds of copies are dropped, so a replay sees each source event once:
- the same Kafka record twice: the recorder is at-least-once (a crash or a lost commit re-reads
  what was buffered). A record is identified by (topic, partition, offset, Kafka timestamp): the
  timestamp tells apart the different records an in-memory broker numbers from 0 again after a
  restart, while a re-read copy carries the very same one. Copies have the same order time, so
  after sorting they are neighbours and are dropped as they stream by;
- the same source event in two records: a source re-sends (RTDS backfill after a reconnect, windows
  re-announced by a restarted `feeds`), with a later receive time. Those share the event's
  `source_id`; `core.replay_dedupe` keeps the first copy.

Memory stays bounded by reading `chunk`-long slices of time. Each part's time span is read once
from its Parquet statistics (`recv_ts`, and `kafka_ts` for rows without one), so a slice opens only
the parts that can hold it rather than every part of the day (a day of minute-long parts is
hundreds of files). The next slice is read on one background thread while the caller consumes the
current one (pyarrow decompresses and sorts without holding the GIL); its errors surface here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from core.replay_dedupe import SourceIdWindow
from sinks.archive import SCHEMA, day_dir, part_files

_ONE_US = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ArchivedEvent(NamedTuple):
    """What a replay feeds into the flows: the value bytes exactly as produced, in `recv_ts` order.

    `recv_ts` is the Kafka timestamp for a value that did not decode (it has no `recv_ts` of its own).
    """

    topic: str
    key: bytes | None
    value: bytes
    recv_ts: datetime


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"timestamp must be timezone-aware: {value.isoformat()}")
    return value.astimezone(UTC)


def _days(start: datetime, end: datetime) -> list[date]:
    first, last = start.date(), (end - _ONE_US).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _slices(start: datetime, end: datetime, chunk: timedelta) -> Iterator[tuple[datetime, datetime]]:
    """[start, end) cut into pieces no longer than `chunk` that never cross a UTC midnight."""
    lo = start
    while lo < end:
        midnight = datetime.combine(lo.date() + timedelta(days=1), datetime.min.time(), UTC)
        hi = min(lo + chunk, end, midnight)
        yield lo, hi
        lo = hi


def _in_range(lo: datetime, hi: datetime) -> ds.Expression:
    recv, kafka = ds.field("recv_ts"), ds.field("kafka_ts")
    has_recv = (recv >= pa.scalar(lo, SCHEMA.field("recv_ts").type)) & (
        recv < pa.scalar(hi, SCHEMA.field("recv_ts").type)
    )
    no_recv = (
        recv.is_null()
        & (kafka >= pa.scalar(lo, SCHEMA.field("kafka_ts").type))
        & (kafka < pa.scalar(hi, SCHEMA.field("kafka_ts").type))
    )
    return has_recv | no_recv


Span = tuple[datetime, datetime] | None
"""The first and last order time of a part's rows; None when its statistics cannot say."""


def _column_span(meta: pq.FileMetaData, name: str) -> tuple[Span, bool]:
    """(min, max) of one timestamp column over all row groups, and whether it has nulls.
    The span is None when a row group lacks statistics; an all-null column spans nothing."""
    index = meta.schema.names.index(name)
    lows: list[datetime] = []
    highs: list[datetime] = []
    nulls = False
    for group in range(meta.num_row_groups):
        stats = meta.row_group(group).column(index).statistics
        if stats is None:
            return None, True
        nulls = nulls or stats.null_count != 0
        if stats.has_min_max:
            lows.append(stats.min)
            highs.append(stats.max)
        elif stats.null_count != stats.num_values:
            return None, True
    if not lows:
        return (datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC)), nulls
    return (_utc(min(lows)), _utc(max(highs))), nulls


def part_span(path: str) -> Span:
    """The order-time span of one part (`recv_ts`, else `kafka_ts` row by row), from its statistics."""
    try:
        meta = pq.read_metadata(path)
        recv, recv_nulls = _column_span(meta, "recv_ts")
        if recv is None or not recv_nulls:
            return recv
        kafka, _ = _column_span(meta, "kafka_ts")
    except (ValueError, TypeError, AttributeError, OSError):
        return None  # statistics it cannot read: the part is read for every slice
    if kafka is None:
        return None
    return min(recv[0], kafka[0]), max(recv[1], kafka[1])


def _overlapping(spans: list[tuple[str, Span]], lo: datetime, hi: datetime) -> list[str]:
    return [path for path, span in spans if span is None or (span[0] < hi and span[1] >= lo)]


def _read_slice(files: list[str], lo: datetime, hi: datetime) -> pa.Table:
    columns = ["topic", "partition", "offset", "key", "value", "recv_ts", "kafka_ts", "source_id"]
    table = ds.dataset(files, schema=SCHEMA, format="parquet").to_table(
        columns=columns, filter=_in_range(lo, hi)
    )
    table = table.append_column("_order", pc.coalesce(table["recv_ts"], table["kafka_ts"]))
    keys = ["_order", "topic", "partition", "offset", "kafka_ts"]
    return table.take(pc.sort_indices(table, sort_keys=[(k, "ascending") for k in keys]))


def read_archive(
    archive_dir: Path,
    topics: Iterable[str],
    start: datetime,
    end: datetime,
    *,
    chunk: timedelta = timedelta(hours=1),
) -> Iterator[ArchivedEvent]:
    """Every archived record of `topics` with start <= recv_ts < end, merged in (recv_ts, topic,
    partition, offset) order, each Kafka record and each source event once (the first copy)."""
    start, end = _utc(start), _utc(end)
    names = sorted(set(topics))
    if start >= end or not names:
        return
    spans: dict[date, list[tuple[str, Span]]] = {}

    def files_for(lo: datetime, hi: datetime) -> list[str]:
        day = lo.date()
        if day not in spans:
            paths = [str(p) for name in names for p in part_files(day_dir(archive_dir, name, day))]
            spans.clear()  # slices go forward in time: earlier days are done with
            spans[day] = [(path, part_span(path)) for path in paths]
        return _overlapping(spans[day], lo, hi)

    def read(lo: datetime, hi: datetime) -> pa.Table | None:
        files = files_for(lo, hi)
        return _read_slice(files, lo, hi) if files else None

    previous: tuple[str, int, int, int | None] | None = None
    sources = SourceIdWindow()
    slices = list(_slices(start, end, chunk))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-read") as pool:
        ahead: Future[pa.Table | None] = pool.submit(read, *slices[0])
        for i in range(len(slices)):
            table = ahead.result()
            if i + 1 < len(slices):
                ahead = pool.submit(read, *slices[i + 1])
            if table is None:
                continue
            columns = [
                table[c].to_pylist() for c in ("topic", "partition", "offset", "key", "value", "source_id")
            ]
            # Timestamps as integer microseconds: pyarrow's own datetime conversion costs ~10x more.
            kafka_us = table["kafka_ts"].cast(pa.int64()).to_pylist()
            order_us = table["_order"].cast(pa.int64()).to_pylist()
            del table
            rows = zip(*columns, kafka_us, order_us, strict=True)
            for topic, partition, offset, key, value, source_id, kafka_ts, order_micros in rows:
                identity = (topic, partition, offset, kafka_ts)
                if identity == previous:
                    continue
                previous = identity
                order = _EPOCH + timedelta(microseconds=order_micros)
                if source_id is not None and not sources.first(topic, source_id, order):
                    continue
                yield ArchivedEvent(topic, key, value, order)


def archive_counts(archive_dir: Path, topics: Iterable[str] | None = None) -> dict[tuple[str, date], int]:
    """Distinct Kafka records per (topic, UTC day) on disk, repeats from a crash counted once."""
    names = (
        sorted(topics) if topics is not None else sorted(p.name for p in archive_dir.iterdir() if p.is_dir())
    )
    counts: dict[tuple[str, date], int] = {}
    for name in names:
        topic_dir = archive_dir / name
        if not topic_dir.is_dir():
            continue
        for directory in sorted(topic_dir.glob("date=*")):
            files = [str(p) for p in part_files(directory)]
            if not files:
                continue
            table = ds.dataset(files, schema=SCHEMA, format="parquet").to_table(
                columns=["partition", "offset", "kafka_ts"]
            )
            distinct = table.group_by(["partition", "offset", "kafka_ts"]).aggregate([])
            counts[(name, date.fromisoformat(directory.name.removeprefix("date=")))] = distinct.num_rows
    return counts
