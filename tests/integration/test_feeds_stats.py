"""feed_stats keeps what the channels count: the market channel's REST resyncs (one per followed token
on every connect), its drifts and failed resyncs, and the process's own row (task crashes, writes and
events dropped by a full queue)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import psycopg
import pytest

from infra import stack
from polywindow.settings import FeedSettings
from polywindow.wiring import PROCESS_FEED, Feeds
from sinks.postgres.migrate import migrate
from tests.integration.feeds_harness import on_thread, synthetic_venue, wait_for
from tests.simulator.conftest import admin_token

pytestmark = [pytest.mark.stack, pytest.mark.timeout(30)]


@pytest.fixture
def venue() -> Iterator[str]:
    with synthetic_venue() as running:
        yield running.address


def stats(database: str, feed: str) -> list[dict[str, object]]:
    with psycopg.connect(database) as conn:
        cur = conn.execute(
            "SELECT resyncs, drifts, resync_failed, crashes, write_overflow, produce_overflow"
            " FROM feed_stats WHERE feed = %s ORDER BY id",
            (feed,),
        )
        names = [c.name for c in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def test_market_resyncs_and_the_process_counters_are_stored(
    venue: str, endpoints: stack.Endpoints, fresh_database: str
) -> None:
    migrate(fresh_database)
    settings = FeedSettings(
        clob_url=f"http://{venue}",
        gamma_url=f"http://{venue}/gamma",
        market_ws_url=f"ws://{venue}/ws/market",
        assets=["btc"],
        intervals_s=[300],
        gamma_poll_s=0.5,
        stats_interval_s=0.5,
    )
    feeds = Feeds(settings, endpoints.kafka_bootstrap, fresh_database, only={"gamma", "market"})
    try:
        with on_thread(feeds.run):
            wait_for(
                lambda: "market" in feeds.runners and feeds.runners["market"].connected.is_set(),
                10,
                "connect",
            )
            market = feeds.runners["market"]
            wait_for(lambda: market.counts["events"] > 0, 10, "the books of the windows found")
            cut = httpx.post(
                f"http://{venue}/_admin/ws/disconnect",
                json={"channel": "market"},
                headers={"X-Admin-Token": admin_token()},
            )
            assert cut.json()["closed"] == 1  # the reconnect resyncs every followed token over REST
            wait_for(
                lambda: any(int(str(r["resyncs"])) > 0 for r in stats(fresh_database, "polymarket.market")),
                20,
                "a feed_stats row with the market channel's resyncs",
            )
            wait_for(lambda: bool(stats(fresh_database, PROCESS_FEED)), 10, "the process row")
            channel_counts = feeds.runners["market"].stats()
    finally:
        feeds.close()
    assert channel_counts["resyncs"] > 0
    last = stats(fresh_database, "polymarket.market")[-1]
    assert last["drifts"] == channel_counts.get("book_drift", 0)
    assert last["resync_failed"] == channel_counts.get("resync_failed", 0)
    assert stats(fresh_database, PROCESS_FEED)[-1] == {
        "resyncs": 0,
        "drifts": 0,
        "resync_failed": 0,
        "crashes": 0,
        "write_overflow": 0,
        "produce_overflow": 0,
    }
