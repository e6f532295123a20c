"""The market-data archive: every `md.*` record as received, in Parquet files by topic and UTC day.

Why Parquet files and not PostgreSQL: the archive is written all day and read whole days at a time
by replays, never row by row. Columnar, zstd-compressed files hold book JSON at a fraction of its
size (it compresses roughly tenfold), a day of one topic is a directory a replay scans in `recv_ts`
order using the row-group statistics, and none of it loads the trading database. pyarrow is already
in the lock and well kept.

Layout: `<archive_dir>/<topic>/date=YYYY-MM-DD/part-<uuid>.parquet`, one row per Kafka record with
the value bytes exactly as produced (and the event's `source_id`, so a replay can drop re-sent copies;
parts written before that column existed read it as null). The day is the UTC day of `recv_ts` (of the Kafka timestamp for
a value that does not decode, which is archived all the same).

Durability protocol (the caller's side is in `sinks.archive_recorder`): rows are buffered per
(topic, day); a buffer becomes a part when it reaches `roll_rows` rows or `roll_s` seconds of age.
A part is written to a hidden temp name, fsynced, atomically renamed and its directory fsynced, so a
crash never leaves a half part where a reader looks. `committable()` says up to which offset each
partition is durably on disk; Kafka offsets are committed only up to there. A crash therefore re-reads
at most what was buffered (at-least-once) and the reader drops the repeats.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

TS = pa.timestamp("us", tz="UTC")
SCHEMA = pa.schema(
    [
        pa.field("topic", pa.string(), nullable=False),
        pa.field("partition", pa.int32(), nullable=False),
        pa.field("offset", pa.int64(), nullable=False),
        pa.field("key", pa.binary()),
        pa.field("value", pa.binary(), nullable=False),
        pa.field("kind", pa.string()),
        pa.field("source_ts", TS),
        pa.field("recv_ts", TS),
        pa.field("kafka_ts", TS),
        pa.field("decode_error", pa.string()),
        pa.field("source_id", pa.string()),
    ]
)
PART_PREFIX = "part-"
PART_SUFFIX = ".parquet"


@dataclass(frozen=True, slots=True)
class ArchiveRow:
    """One Kafka record as archived. `recv_ts`/`source_ts`/`kind` are None when the value did not decode."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    kind: str | None
    source_ts: datetime | None
    recv_ts: datetime | None
    kafka_ts: datetime | None
    decode_error: str | None = None
    source_id: str | None = None  # the source's own id: a replay drops re-sent copies by it

    @property
    def order_ts(self) -> datetime | None:
        """The time a replay orders this row by: `recv_ts`, else the Kafka timestamp."""
        return self.recv_ts if self.recv_ts is not None else self.kafka_ts


def day_of(row: ArchiveRow, fallback: datetime) -> date:
    """The UTC day whose directory holds the row (`fallback`: the recorder's clock, for a row with no time)."""
    ts = row.order_ts or fallback
    return ts.astimezone(UTC).date()


def day_dir(archive_dir: Path, topic: str, day: date) -> Path:
    return archive_dir / topic / f"date={day.isoformat()}"


def part_files(directory: Path) -> list[Path]:
    """Closed parts of one day directory; hidden temp files of an unfinished write are not parts."""
    if not directory.is_dir():
        return []
    return sorted(
        p for p in directory.iterdir() if p.name.startswith(PART_PREFIX) and p.name.endswith(PART_SUFFIX)
    )


def rows_to_table(rows: list[ArchiveRow]) -> pa.Table:
    """Columns of a part, sorted by (order time, partition, offset) so row-group statistics are tight."""
    table = pa.table(
        {
            "topic": pa.array([r.topic for r in rows], pa.string()),
            "partition": pa.array([r.partition for r in rows], pa.int32()),
            "offset": pa.array([r.offset for r in rows], pa.int64()),
            "key": pa.array([r.key for r in rows], pa.binary()),
            "value": pa.array([r.value for r in rows], pa.binary()),
            "kind": pa.array([r.kind for r in rows], pa.string()),
            "source_ts": pa.array([r.source_ts for r in rows], TS),
            "recv_ts": pa.array([r.recv_ts for r in rows], TS),
            "kafka_ts": pa.array([r.kafka_ts for r in rows], TS),
            "decode_error": pa.array([r.decode_error for r in rows], pa.string()),
            "source_id": pa.array([r.source_id for r in rows], pa.string()),
        },
        schema=SCHEMA,
    )
    order = pc.coalesce(table["recv_ts"], table["kafka_ts"])
    keyed = table.append_column("_order", order)
    indices = pc.sort_indices(
        keyed, sort_keys=[("_order", "ascending"), ("partition", "ascending"), ("offset", "ascending")]
    )
    return table.take(indices)


def write_part(directory: Path, rows: list[ArchiveRow]) -> Path:
    """Write one closed part durably: temp name, fsync, atomic rename, fsync of the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{PART_PREFIX}{uuid.uuid4().hex}{PART_SUFFIX}"
    final = directory / name
    temp = directory / f".{name}.tmp"
    table = rows_to_table(rows)
    with open(temp, "wb") as handle:
        pq.write_table(table, handle, compression="zstd", row_group_size=max(len(rows), 1))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, final)
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return final


@dataclass
class _Buffer:
    opened_at: float
    rows: list[ArchiveRow] = field(default_factory=list)
    first: dict[tuple[str, int], int] = field(default_factory=dict)  # lowest offset per partition


class ArchiveWriter:
    """Buffers rows per (topic, UTC day) and rolls each buffer into a part by size or age.

    Time is passed in (`now`, monotonic seconds) so the roll policy is testable. Nothing acknowledged
    by `committable()` is ever only in memory.
    """

    def __init__(self, archive_dir: Path, *, roll_rows: int, roll_s: float) -> None:
        if roll_rows < 1 or roll_s <= 0:
            raise ValueError(f"roll_rows must be >= 1 and roll_s > 0, got {roll_rows}, {roll_s}")
        self.archive_dir = archive_dir
        self.roll_rows = roll_rows
        self.roll_s = roll_s
        self._buffers: dict[tuple[str, date], _Buffer] = {}
        self._next: dict[tuple[str, int], int] = {}
        self.parts_written = 0
        self.rows_written = 0
        self.newest_written: dict[str, datetime] = {}  # per topic: the newest recv_ts in a closed part

    def add(self, row: ArchiveRow, now: float, wall: datetime) -> bool:
        """Buffer one row; a buffer reaching `roll_rows` becomes a part at once (returns True then).

        `wall` is the recorder's UTC clock, used only for a row without any time of its own.
        """
        key = (row.topic, day_of(row, wall))
        buffer = self._buffers.get(key)
        if buffer is None:
            buffer = self._buffers[key] = _Buffer(opened_at=now)
        buffer.rows.append(row)
        tp = (row.topic, row.partition)
        if row.offset < buffer.first.get(tp, row.offset + 1):
            buffer.first[tp] = row.offset
        self._next[tp] = max(self._next.get(tp, 0), row.offset + 1)
        if len(buffer.rows) >= self.roll_rows:
            self._close(key)
            return True
        return False

    def roll_due(self, now: float) -> int:
        """Close every buffer open for `roll_s` or longer; returns how many parts were written."""
        due = [
            k
            for k, b in self._buffers.items()
            if len(b.rows) >= self.roll_rows or now - b.opened_at >= self.roll_s
        ]
        for key in due:
            self._close(key)
        return len(due)

    def close_all(self) -> int:
        """Close every open buffer (shutdown, partition revocation)."""
        keys = list(self._buffers)
        for key in keys:
            self._close(key)
        return len(keys)

    def _close(self, key: tuple[str, date]) -> None:
        buffer = self._buffers.pop(key)
        if buffer.rows:
            write_part(day_dir(self.archive_dir, key[0], key[1]), buffer.rows)
            self.parts_written += 1
            self.rows_written += len(buffer.rows)
            times = [r.recv_ts for r in buffer.rows if r.recv_ts is not None]
            if times:
                newest = max(times)
                self.newest_written[key[0]] = max(self.newest_written.get(key[0], newest), newest)

    def pending(self) -> list[ArchiveRow]:
        """Rows read but not yet in a closed part (what a crash now would make Kafka deliver again)."""
        return [r for b in self._buffers.values() for r in b.rows]

    @property
    def buffered(self) -> int:
        return sum(len(b.rows) for b in self._buffers.values())

    def committable(self) -> dict[tuple[str, int], int]:
        """Per (topic, partition): the Kafka offset to commit, i.e. every lower offset is on disk.

        That is the lowest offset still buffered for the partition, or one past the highest added.
        """
        safe = dict(self._next)
        for buffer in self._buffers.values():
            for tp, offset in buffer.first.items():
                safe[tp] = min(safe[tp], offset)
        return safe

    def forget(self, partitions: list[tuple[str, int]]) -> None:
        """Drop the offset bookkeeping of partitions this process no longer owns (after `close_all`)."""
        for tp in partitions:
            self._next.pop(tp, None)
