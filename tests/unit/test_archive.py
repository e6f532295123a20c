"""The archive's files, roll policy, commit bookkeeping and reader, without Kafka."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from core.serde import encode
from sinks.archive import ArchiveRow, ArchiveWriter, day_dir, part_files, write_part
from sinks.archive_reader import archive_counts, part_span, read_archive
from tests.archive_events import book_mix

T0 = datetime(2031, 3, 4, 23, 59, 59, 999_000, tzinfo=UTC)
WALL = datetime(2031, 3, 4, tzinfo=UTC)


def row(
    topic: str, offset: int, ts: datetime | None, partition: int = 0, value: bytes | None = None
) -> ArchiveRow:
    kafka_ts = ts or T0
    return ArchiveRow(
        topic, partition, offset, b"k", value or f"{topic}:{offset}".encode(), "oracle", ts, ts, kafka_ts
    )


def test_a_buffer_reaching_roll_rows_becomes_a_part_at_once(tmp_path: Path) -> None:
    writer = ArchiveWriter(tmp_path, roll_rows=3, roll_s=3600)
    rolled = [writer.add(row("md.oracle", n, WALL), now=0.0, wall=WALL) for n in range(7)]
    assert rolled == [False, False, True, False, False, True, False]
    parts = part_files(day_dir(tmp_path, "md.oracle", WALL.date()))
    assert sorted(pq.read_metadata(p).num_rows for p in parts) == [3, 3]
    assert writer.buffered == 1
    assert writer.committable() == {("md.oracle", 0): 6}  # offset 6 is only in memory


def test_a_buffer_rolls_by_age_only_when_old_enough(tmp_path: Path) -> None:
    writer = ArchiveWriter(tmp_path, roll_rows=1000, roll_s=5)
    writer.add(row("md.spot", 0, WALL), now=100.0, wall=WALL)
    assert writer.roll_due(104.9) == 0
    assert writer.roll_due(105.0) == 1
    assert writer.committable() == {("md.spot", 0): 1}


def test_committable_is_the_lowest_offset_still_buffered_across_days(tmp_path: Path) -> None:
    writer = ArchiveWriter(tmp_path, roll_rows=2, roll_s=3600)
    late = T0 + timedelta(seconds=1)  # the next UTC day
    writer.add(row("md.book", 10, T0, partition=2), now=0, wall=WALL)
    writer.add(row("md.book", 11, late, partition=2), now=0, wall=WALL)
    writer.add(row("md.book", 12, late, partition=2), now=0, wall=WALL)  # day 2 buffer is full: a part
    assert writer.committable() == {("md.book", 2): 10}  # offset 10 is still open in day 1's buffer
    writer.close_all()
    assert writer.committable() == {("md.book", 2): 13}
    assert {p.parent.name for p in (tmp_path / "md.book").glob("*/part-*")} == {
        "date=2031-03-04",
        "date=2031-03-05",
    }


def test_reader_merges_topics_in_recv_ts_order_and_drops_repeated_records(tmp_path: Path) -> None:
    writer = ArchiveWriter(tmp_path, roll_rows=100, roll_s=3600)
    base = datetime(2031, 3, 4, 12, tzinfo=UTC)
    rows = [row("md.spot", n, base + timedelta(seconds=10 - n)) for n in range(5)]
    rows += [row("md.oracle", n, base + timedelta(seconds=2 * n)) for n in range(5)]
    for r in rows:
        writer.add(r, now=0, wall=WALL)
    writer.close_all()
    for r in rows[:3] + rows[6:8]:  # a crash re-read: the same Kafka records in a second part
        writer.add(r, now=0, wall=WALL)
    writer.close_all()

    got = list(read_archive(tmp_path, ["md.spot", "md.oracle"], base, base + timedelta(minutes=1)))
    expected = sorted(rows, key=lambda r: (r.recv_ts, r.topic, r.partition, r.offset))
    assert [(e.topic, e.value, e.recv_ts) for e in got] == [(r.topic, r.value, r.recv_ts) for r in expected]
    assert archive_counts(tmp_path) == {("md.oracle", date(2031, 3, 4)): 5, ("md.spot", date(2031, 3, 4)): 5}


def test_the_time_range_includes_its_start_and_excludes_its_end_across_midnight(tmp_path: Path) -> None:
    writer = ArchiveWriter(tmp_path, roll_rows=100, roll_s=3600)
    start, end = T0 - timedelta(seconds=1), T0 + timedelta(seconds=1)
    one_us = timedelta(microseconds=1)
    times = [start - one_us, start, T0, end - one_us, end]
    for n, ts in enumerate(times):
        writer.add(row("md.oracle", n, ts), now=0, wall=WALL)
    writer.close_all()
    got = [
        e.recv_ts
        for e in read_archive(tmp_path, ["md.oracle"], start, end, chunk=timedelta(milliseconds=300))
    ]
    assert got == [start, T0, end - one_us]


def test_a_record_the_broker_renumbered_after_a_restart_is_not_taken_for_a_repeat(tmp_path: Path) -> None:
    writer = ArchiveWriter(tmp_path, roll_rows=100, roll_s=3600)
    first = row("md.spot", 0, WALL + timedelta(seconds=1), value=b"before restart")
    again = ArchiveRow(**_fields(first, value=b"after restart", kafka_ts=WALL + timedelta(seconds=9)))  # type: ignore[arg-type]
    writer.add(first, now=0, wall=WALL)
    writer.add(again, now=0, wall=WALL)
    writer.close_all()
    got = [e.value for e in read_archive(tmp_path, ["md.spot"], WALL, WALL + timedelta(hours=1))]
    assert got == [b"before restart", b"after restart"]


def _fields(r: ArchiveRow, **changes: object) -> dict[str, object]:
    values = {name: getattr(r, name) for name in ArchiveRow.__dataclass_fields__}
    return {**values, **changes}


def test_a_value_that_did_not_decode_is_read_back_at_its_kafka_time(tmp_path: Path) -> None:
    writer = ArchiveWriter(tmp_path, roll_rows=100, roll_s=3600)
    kafka_ts = WALL + timedelta(minutes=5)
    bad = ArchiveRow("md.book", 0, 7, None, b"{not json", None, None, None, kafka_ts, "md.book: invalid JSON")
    writer.add(bad, now=0, wall=WALL)
    writer.close_all()
    got = list(read_archive(tmp_path, ["md.book"], WALL, WALL + timedelta(hours=1)))
    assert [(e.key, e.value, e.recv_ts) for e in got] == [(None, b"{not json", kafka_ts)]


def test_an_unfinished_temp_file_is_not_read(tmp_path: Path) -> None:
    writer = ArchiveWriter(tmp_path, roll_rows=100, roll_s=3600)
    writer.add(row("md.oracle", 0, WALL + timedelta(seconds=1)), now=0, wall=WALL)
    writer.close_all()
    directory = day_dir(tmp_path, "md.oracle", WALL.date())
    (directory / ".part-crashed.parquet.tmp").write_bytes(b"PAR1 half a file")
    assert len(list(read_archive(tmp_path, ["md.oracle"], WALL, WALL + timedelta(days=1)))) == 1


def test_book_values_are_stored_byte_identical(tmp_path: Path) -> None:
    events = book_mix(WALL + timedelta(hours=1), 50)
    writer = ArchiveWriter(tmp_path, roll_rows=20, roll_s=3600)
    for n, e in enumerate(events):
        writer.add(
            ArchiveRow("md.book", 0, n, b"t", encode(e), e.kind, e.source_ts, e.recv_ts, None),
            now=0,
            wall=WALL,
        )
    writer.close_all()
    got = list(read_archive(tmp_path, ["md.book"], WALL, WALL + timedelta(days=1)))
    assert [e.value for e in got] == [encode(e) for e in events]


def test_bad_roll_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="roll_rows"):
        ArchiveWriter(tmp_path, roll_rows=0, roll_s=1)


def test_a_source_event_re_sent_later_is_replayed_once_and_an_old_part_without_ids_still_reads(
    tmp_path: Path,
) -> None:
    base = datetime(2031, 3, 4, 12, tzinfo=UTC)
    writer = ArchiveWriter(tmp_path, roll_rows=100, roll_s=3600)
    live = [
        ArchiveRow(
            "md.oracle",
            0,
            n,
            b"k",
            f"tick{n}".encode(),
            "oracle",
            base,
            base + timedelta(seconds=n),
            base,
            source_id=f"spot:btc/usd:{n}",
        )
        for n in range(5)
    ]
    # a feeds restart 90 s later: RTDS re-sends the last three prints as new Kafka records
    backfill = [
        ArchiveRow(
            "md.oracle",
            0,
            5 + i,
            b"k",
            r.value,
            "oracle",
            base,
            base + timedelta(seconds=90 + i),
            base,
            source_id=r.source_id,
        )
        for i, r in enumerate(live[2:])
    ]
    fresh = ArchiveRow(
        "md.oracle",
        0,
        8,
        b"k",
        b"tick-new",
        "oracle",
        base,
        base + timedelta(seconds=95),
        base,
        source_id="spot:btc/usd:95",
    )
    for r in [*live, *backfill, fresh]:
        writer.add(r, now=0, wall=WALL)
    writer.close_all()
    no_id = row("md.oracle", 0, base + timedelta(seconds=50))  # as parts written before source_id existed
    old = ArchiveWriter(tmp_path, roll_rows=100, roll_s=3600)
    old.add(no_id, now=0, wall=WALL)
    old.close_all()
    (old_part,) = [
        p
        for p in part_files(day_dir(tmp_path, "md.oracle", base.date()))
        if pq.read_table(p)["value"].to_pylist() == [no_id.value]
    ]
    pq.write_table(pq.read_table(old_part).drop(["source_id"]), old_part)

    got = [e.value for e in read_archive(tmp_path, ["md.oracle"], base, base + timedelta(minutes=5))]
    assert got == [r.value for r in live] + [no_id.value, b"tick-new"]


def test_a_part_spans_its_rows_order_times_including_those_read_at_their_kafka_time(tmp_path: Path) -> None:
    late_kafka = WALL + timedelta(hours=3)
    rows = [
        row("md.oracle", 0, WALL + timedelta(minutes=1)),
        row("md.oracle", 1, WALL + timedelta(minutes=2)),
        ArchiveRow("md.oracle", 0, 2, None, b"{bad", None, None, None, late_kafka, "invalid JSON"),
    ]
    part = str(write_part(day_dir(tmp_path, "md.oracle", WALL.date()), rows))
    assert part_span(part) == (WALL + timedelta(minutes=1), late_kafka)
    only_recv = str(write_part(day_dir(tmp_path, "md.oracle", WALL.date()), rows[:2]))
    assert part_span(only_recv) == (WALL + timedelta(minutes=1), WALL + timedelta(minutes=2))


def test_reading_hour_by_hour_opens_only_the_parts_of_each_hour_and_misses_none(tmp_path: Path) -> None:
    directory = day_dir(tmp_path, "md.oracle", WALL.date())
    times = [WALL + timedelta(minutes=17 * n, seconds=n) for n in range(40)]  # parts straddle the hours
    for n in range(0, 40, 3):
        write_part(directory, [row("md.oracle", k, times[k]) for k in range(n, min(n + 3, 40))])
    got = list(
        read_archive(tmp_path, ["md.oracle"], WALL, WALL + timedelta(days=1), chunk=timedelta(hours=1))
    )
    assert [e.recv_ts for e in got] == times
