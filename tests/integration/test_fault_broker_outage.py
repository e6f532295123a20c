"""The fault suite's broker case, end to end: `feeds` (discovery, market socket, RTDS) and the recorder
run against a broker that goes away for 20 s and comes back on the same address. Neither is
restarted. Afterwards every `md.*` event the feeds handed to Kafka is either in the archive, once, or
counted as lost in exactly one alert row, per topic; and the process's last `feed_stats` row says the
same numbers.

The broker is a private mock cluster in this process, so the test drives its outage
(`rd_kafka_mock_broker_set_down`/`_up`) without touching the session's stack.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from confluent_kafka import Consumer

from connectors.kafka import consumer_config
from core.models import Alert
from core.topics import TOPICS
from infra import stack
from polywindow.settings import FeedSettings
from polywindow.wiring import PROCESS_FEED, Feeds
from sinks.archive import ArchiveWriter
from sinks.archive_reader import read_archive
from sinks.archive_recorder import Recorder
from sinks.postgres.migrate import migrate
from tests.integration.feeds_harness import Venue, on_thread, synthetic_venue, wait_for
from tests.integration.private_kafka import PrivateKafka, private_kafka

pytestmark = [pytest.mark.stack, pytest.mark.timeout(240)]

MD_TOPICS = [t.name for t in TOPICS if t.name.startswith("md.")]
OUTAGE_S = 20.0
_LOST = re.compile(r"(md\.\w+): (\d+) x ")


@pytest.fixture
def cluster() -> Iterator[PrivateKafka]:
    with private_kafka() as kafka:
        yield kafka


@pytest.fixture
def venue() -> Iterator[Venue]:
    with synthetic_venue(assets=("btc",)) as running:
        yield running


class RecorderThread:
    """The recorder's own loop (`Recorder.run`) on a thread, as `polywindow record` runs it."""

    def __init__(self, bootstrap: str, archive: Path) -> None:
        consumer = Consumer(
            consumer_config(bootstrap, "archive", embedded=True, client_config={"auto.offset.reset": "error"})
        )
        self.alerts: list[Alert] = []
        self.recorder = Recorder(
            consumer, MD_TOPICS, ArchiveWriter(archive, roll_rows=500, roll_s=2), self.alerts.append
        )
        self._stop = threading.Event()
        self.errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self.recorder.run(self._stop.is_set)
        except BaseException as exc:  # a crash is what this test looks for: keep it, fail on it
            self.errors.append(exc)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def lost_per_topic(database: str) -> Counter[str]:
    """What the alert rows say was not delivered, per md topic (each loss is in one alert)."""
    with psycopg.connect(database) as conn:
        messages = [
            r[0]
            for r in conn.execute(
                "SELECT message FROM alerts WHERE kind = 'kafka.delivery_failed'"
            ).fetchall()
        ]
    lost: Counter[str] = Counter()
    for message in messages:
        for name, count in _LOST.findall(message):
            lost[name] += int(count)
    return lost


def last_process_row(database: str) -> tuple[int, int]:
    with psycopg.connect(database) as conn:
        row = conn.execute(
            "SELECT delivered, delivery_failed FROM feed_stats WHERE feed = %s ORDER BY id DESC LIMIT 1",
            (PROCESS_FEED,),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def archived_per_topic(archive: Path) -> tuple[Counter[str], int]:
    """Events per topic as a replay reads the archive, and how many of them are the same event twice."""
    start, end = datetime(2000, 1, 1, tzinfo=UTC), datetime.now(UTC) + timedelta(days=1)
    seen = [(e.topic, e.value) for e in read_archive(archive, MD_TOPICS, start, end)]
    return Counter(t for t, _ in seen), len(seen) - len(set(seen))


def test_a_broker_outage_loses_nothing_uncounted_and_both_processes_carry_on_by_themselves(
    cluster: PrivateKafka, venue: Venue, endpoints: stack.Endpoints, fresh_database: str, tmp_path: Path
) -> None:
    migrate(fresh_database)
    settings = FeedSettings(
        clob_url=f"http://{venue.address}",
        gamma_url=f"http://{venue.address}/gamma",
        market_ws_url=f"ws://{venue.address}/ws/market",
        rtds_url=f"ws://{venue.address}/rtds",
        assets=["btc"],
        intervals_s=[300],
        gamma_poll_s=1.0,
        stats_interval_s=1.0,
    )
    archive = tmp_path / "archive"
    feeds = Feeds(settings, cluster.bootstrap, fresh_database, only={"gamma", "market", "rtds"})
    producer = feeds.producer
    recorder = RecorderThread(cluster.bootstrap, archive)
    try:
        with on_thread(feeds.run):
            wait_for(lambda: recorder.recorder.stats.archived >= 50, 60, "market data archived before")
            cluster.broker_down()
            down_at = time.monotonic()
            produced_at_down = producer.produced
            # the outage lasts OUTAGE_S; within it, the producer gives events up and says so
            wait_for(
                lambda: producer.delivery_errors > 0 and time.monotonic() - down_at >= OUTAGE_S,
                OUTAGE_S + 30,
                "events counted as lost during the outage",
            )
            assert producer.produced > produced_at_down  # the feeds kept reading the venue
            cluster.broker_up()
            delivered_at_up = producer.delivered
            archived_at_up = recorder.recorder.stats.archived
            wait_for(
                lambda: (
                    producer.delivered > delivered_at_up + 50
                    and recorder.recorder.stats.archived > archived_at_up + 50
                ),
                60,
                "feeds and the recorder resuming by themselves",
            )
            wait_for(lambda: sum(lost_per_topic(fresh_database).values()) > 0, 30, "the loss alert row")
            assert recorder.alive, recorder.errors
    finally:
        feeds.close()
    try:
        delivered = dict(producer.delivered_by_topic)
        md_delivered = {t: n for t, n in delivered.items() if t in MD_TOPICS}
        wait_for(
            lambda: archived_per_topic(archive)[0] == Counter(md_delivered) or not recorder.alive,
            60,
            "the recorder archiving every delivered event",
        )
    finally:
        recorder.stop()
    assert recorder.errors == []
    archived, twice = archived_per_topic(archive)
    assert archived == Counter(md_delivered) and twice == 0

    # every event handed to the producer was delivered or failed, and every failure is in an alert row
    assert producer.produced + producer.queue_full == producer.delivered + producer.delivery_errors
    failed = Counter(producer.failed_by_topic)
    assert failed["md.book"] > 0
    assert lost_per_topic(fresh_database) == Counter({t: n for t, n in failed.items() if t in MD_TOPICS})
    assert last_process_row(fresh_database) == (producer.delivered, producer.delivery_errors)
