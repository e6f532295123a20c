"""`feeds` on the simulator's clock: against the synthetic venue at 60x for two scenario-hours (about two
wall minutes), the process follows every window of every interval (btc only, to spare the CPU),
the market channel is never silent while a window is open, and no feed gap is recorded, because
discovery, receive stamps and every threshold run on the simulator's scenario time. RTDS ticks come
in order: the 3.5% counted out of order before were the simulator relaying TWAP prints with
independent delays (fixed there), not disorder in our counting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import psycopg
import pytest

from connectors.clock import SimulatorClock
from core.models import BookDelta, BookSnapshot, WindowEvent
from infra import stack
from polywindow.settings import FeedSettings
from polywindow.wiring import Feeds
from sinks.postgres.migrate import migrate
from tests.integration.feeds_harness import TopicTail, Venue, on_thread, synthetic_venue, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.timeout(240)]

SPEED = 60.0
RUN = timedelta(hours=2)  # scenario time
INTERVALS = [300, 900, 3600]


@pytest.fixture
def venue() -> Iterator[Venue]:
    with synthetic_venue(SPEED, assets=("btc",)) as running:
        yield running


def settings_for(address: str) -> FeedSettings:
    return FeedSettings(
        clob_url=f"http://{address}",
        gamma_url=f"http://{address}/gamma",
        market_ws_url=f"ws://{address}/ws/market",
        rtds_url=f"ws://{address}/rtds",
        assets=["btc"],
        intervals_s=INTERVALS,
        clock="simulator",
        gamma_poll_s=30.0,  # scenario seconds: half a wall second at 60x
        stats_interval_s=60.0,
    )


def note(stamps: dict[str, list[datetime]], event: object) -> bool:
    """Keep only the receive time of a book event, by token (the events themselves are many)."""
    if isinstance(event, BookSnapshot | BookDelta):
        stamps.setdefault(event.token_id, []).append(event.recv_ts)
    return False


def gap_rows(database: str) -> list[tuple[str, datetime, datetime | None, str]]:
    with psycopg.connect(database) as conn:
        return conn.execute("SELECT feed, started_at, ended_at, detail FROM feed_gaps").fetchall()


def test_feeds_follow_every_window_for_two_scenario_hours_at_60x(
    venue: Venue, endpoints: stack.Endpoints, fresh_database: str
) -> None:
    migrate(fresh_database)
    windows_tail = TopicTail(endpoints.kafka_bootstrap, endpoints.kafka_embedded, "md.windows")
    book_tail = TopicTail(endpoints.kafka_bootstrap, endpoints.kafka_embedded, "md.book")
    settings = settings_for(venue.address)
    clock = SimulatorClock(settings.clob_url).start()
    feeds = Feeds(settings, endpoints.kafka_bootstrap, fresh_database, {"gamma", "market", "rtds"}, clock)
    registry = venue.scenario.registry
    stamps: dict[str, list[datetime]] = {}  # receive times of md.book events per token
    try:
        with on_thread(feeds.run):
            wait_for(
                lambda: "market" in feeds.runners and feeds.runners["market"].connected.is_set(),
                10,
                "connect",
            )
            began = clock.now()
            until = began + RUN
            # Read md.book while it is written: the embedded broker keeps about 5 MB per partition.
            book_tail.read(
                lambda e: note(stamps, e),
                lambda _: clock.now() >= until,
                RUN / timedelta(seconds=1) / SPEED + 30,
            )
            counts = {name: runner.stats() for name, runner in feeds.runners.items()}
        feeds.producer.flush()
    finally:
        feeds.close()

    expected = {
        w.condition_id: w
        for w in registry.all()
        if w.asset == "btc"
        and w.interval_s in INTERVALS
        and w.start < until - timedelta(minutes=1)
        and w.end > began
    }
    assert {300, 900, 3600} <= {w.interval_s for w in expected.values()}
    seen = windows_tail.drain(
        lambda e: isinstance(e, WindowEvent) and e.condition_id in expected, quiet_s=1.0
    )
    windows_tail.close()
    assert {e.condition_id for e in seen} == set(expected), "every window of every interval is followed"

    book_tail.drain(lambda e: note(stamps, e))
    book_tail.close()
    for w in expected.values():  # a book that does not change is quiet: the channel's gaps judge silence
        start, end = max(w.start, began), min(w.end, until)
        seen_at = stamps.get(w.up_token_id, []) + stamps.get(w.down_token_id, [])
        inside = [t for t in seen_at if start <= t < end]
        assert inside or end - start < timedelta(seconds=30), f"{w.slug}: no md.book event while open"

    assert gap_rows(fresh_database) == [], "no false gap"
    for name in ("market", "rtds"):
        assert counts[name].get("reconnects", 0) == 0, counts
    assert counts["rtds"]["events"] > 100 * 60 and counts["rtds"].get("out_of_order", 0) == 0
