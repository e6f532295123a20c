"""The replay-books scenario fed from the project's own archive: composition only.

The simulator may import only core, so the archived `md.windows` and `md.book` records are read
here with `sinks.archive_reader` (each Kafka record and each source event once, in `recv_ts`
order), decoded with `core.serde`, and handed to `simulator.recorded_books.books_from_events`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from core.serde import DecodeError, decode
from simulator.recorded_books import RecordedBooks, books_from_events
from sinks.archive_reader import read_archive

TOPICS = ("md.windows", "md.book")
# Windows are announced well before they open; reading this far back finds the announcement of a
# window whose books start at `start`.
ANNOUNCE_LEAD = timedelta(days=1)


def _decoded(archive_dir: Path, start: datetime, end: datetime) -> Iterator[object]:
    for event in read_archive(archive_dir, TOPICS, start - ANNOUNCE_LEAD, end):
        try:
            yield decode(event.topic, event.value)
        except DecodeError:  # quarantined when recorded; nothing to replay
            continue


def archive_books(archive_dir: Path, start: datetime, end: datetime) -> RecordedBooks:
    """The archived windows and their books recorded in [start - 1 day, end), as the replay's source."""
    return books_from_events(_decoded(archive_dir, start, end))
