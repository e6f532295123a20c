"""Per-window completeness is computed on the data's clock: against a simulator running 60x wall
time, the feeds process writes feed_completeness rows for windows that ended in the venue's time
while, on our wall clock, they are still minutes from their end."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest

from infra import stack
from polywindow.settings import FeedSettings
from polywindow.wiring import Feeds
from sinks.postgres.migrate import migrate
from tests.integration.feeds_harness import on_thread, synthetic_venue, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.timeout(30)]

SPEED = 60.0


@pytest.fixture
def fast_venue() -> Iterator[str]:
    with synthetic_venue(SPEED) as running:
        yield running.address


def completeness_rows(database: str) -> list[tuple[str, str, datetime, Decimal]]:
    with psycopg.connect(database) as conn:
        return conn.execute("SELECT feed, window_id, end_ts, percent FROM feed_completeness").fetchall()


def test_completeness_rows_appear_when_a_window_ends_in_event_time(
    fast_venue: str, endpoints: stack.Endpoints, fresh_database: str
) -> None:
    migrate(fresh_database)
    settings = FeedSettings(
        clob_url=f"http://{fast_venue}",
        gamma_url=f"http://{fast_venue}/gamma",
        market_ws_url=f"ws://{fast_venue}/ws/market",
        rtds_url=f"ws://{fast_venue}/rtds",
        assets=["btc"],
        intervals_s=[300],
        gamma_poll_s=30.0,  # seconds of the simulator's clock, as every threshold
        stats_interval_s=30.0,
        clock="simulator",
    )
    feeds = Feeds(settings, endpoints.kafka_bootstrap, fresh_database, only={"gamma", "market"})
    try:
        with on_thread(feeds.run):
            wait_for(
                lambda: any(end > datetime.now(UTC) for *_, end, _ in completeness_rows(fresh_database)),
                20,
                "a feed_completeness row of a window not yet ended on our wall clock",
            )
            wall = datetime.now(UTC)
    finally:
        feeds.close()
    rows = completeness_rows(fresh_database)
    assert {feed for feed, *_ in rows} == {"polymarket.market"}
    ahead = [pct for *_, end_ts, pct in rows if end_ts > wall]  # ended on the venue's clock, not on ours
    # a window that ended before the market channel's first event honestly reads 0% (connected rule)
    assert ahead and all(Decimal(0) <= pct <= Decimal(100) for *_, pct in rows), rows
