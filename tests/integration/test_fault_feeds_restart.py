"""The fault suite's restart case: `feeds` stopped and started again while the recorder runs. The new
RTDS session re-sends its backfill, so the archive holds those prints twice; a replay
(`read_archive`) must still see each source event once."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from confluent_kafka import Consumer

from connectors.kafka import consumer_config
from core.models import Alert
from infra import stack
from polywindow.settings import FeedSettings
from polywindow.wiring import Feeds
from sinks.archive import ArchiveWriter
from sinks.archive_reader import archive_counts, read_archive
from sinks.archive_recorder import Recorder
from sinks.postgres.migrate import migrate
from tests.integration.feeds_harness import Venue, on_thread, synthetic_venue, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]

TOPICS = ["md.oracle"]


@pytest.fixture
def venue() -> Iterator[Venue]:
    with synthetic_venue(assets=("btc",)) as running:
        yield running


def _one_life(settings: FeedSettings, bootstrap: str, database: str, recorder: Recorder, base: int) -> int:
    """One `feeds` process life: start, run until the recorder has archived some of its prints, stop;
    then the recorder catches up with every print it delivered. Returns the archive's new total."""
    feeds = Feeds(settings, bootstrap, database, only={"rtds"})
    try:
        with on_thread(feeds.run):
            wait_for(lambda: _step(recorder) >= base + 20, 60, "prints of this life archived")
    finally:
        feeds.close()
    total = base + feeds.producer.delivered_by_topic["md.oracle"]
    wait_for(lambda: _step(recorder) >= total, 30, "every print of this life archived")
    return total


def _step(recorder: Recorder) -> int:
    recorder.step()
    return recorder.stats.archived


def test_a_feeds_restart_re_sends_its_backfill_and_a_replay_still_sees_each_event_once(
    venue: Venue, endpoints: stack.Endpoints, fresh_database: str, tmp_path: Path
) -> None:
    migrate(fresh_database)
    settings = FeedSettings(
        clob_url=f"http://{venue.address}",
        gamma_url=f"http://{venue.address}/gamma",
        rtds_url=f"ws://{venue.address}/rtds",
        assets=["btc"],
        intervals_s=[300],
    )
    consumer = Consumer(
        consumer_config(endpoints.kafka_bootstrap, f"archive-{uuid.uuid4().hex[:8]}", embedded=True)
    )
    alerts: list[Alert] = []
    recorder = Recorder(
        consumer, TOPICS, ArchiveWriter(tmp_path, roll_rows=1, roll_s=3600), alerts.append, start="end"
    )
    began = datetime.now(UTC)
    try:
        wait_for(lambda: _step(recorder) == 0 and bool(recorder.assigned), 30, "the recorder's partitions")
        first_life = _one_life(settings, endpoints.kafka_bootstrap, fresh_database, recorder, 0)
        _one_life(settings, endpoints.kafka_bootstrap, fresh_database, recorder, first_life)
    finally:
        recorder.close()

    replayed = list(
        read_archive(tmp_path, TOPICS, began - timedelta(hours=1), datetime.now(UTC) + timedelta(hours=1))
    )
    stored = sum(archive_counts(tmp_path, TOPICS).values())
    assert stored > len(replayed)  # the second life re-sent prints the first had already sent
    sources = Counter((e.topic, _source_key(e.value)) for e in replayed)
    assert sources and max(sources.values()) == 1


def _source_key(value: bytes) -> tuple[str, str, str]:
    """A print as its source names it: stream, symbol and observation time."""
    body = json.loads(value)
    return body["stream"], body["symbol"], body["source_ts"]
