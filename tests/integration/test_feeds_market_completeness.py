"""The market channel speaks only when a book changes, so its completeness counts the seconds it was
connected, subscribed and not in a gap: on a healthy run against the simulator, a window the channel
saw whole reads 100% (seconds with a tick read about a fifth of it)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import psycopg
import pytest

from infra import stack
from polywindow.settings import FeedSettings
from polywindow.wiring import Feeds
from sinks.postgres.migrate import migrate
from tests.integration.feeds_harness import on_thread, synthetic_venue, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.timeout(150)]

# The silence that opens a gap is judged on our clock: at 10x one wall second is ten venue seconds,
# so on a loaded machine the default 5 s could turn a scheduling stall into a gap over a window.
GAP_THRESHOLD_S = 20.0


def test_a_healthy_market_channel_reads_complete_for_a_window_it_saw_whole(
    endpoints: stack.Endpoints, fresh_database: str
) -> None:
    """The market channel speaks only when a book changes: connected, subscribed and without a gap,
    it covers the whole window (seconds with a tick read about a fifth of it)."""
    migrate(fresh_database)
    # 10x, not 60x: discovery names windows by our clock, so the venue's lead over it (speed - 1
    # times the start-up time) must stay well under a window for the next one to be seen whole.
    with synthetic_venue(10.0) as venue:
        settings = FeedSettings(
            clob_url=f"http://{venue.address}",
            gamma_url=f"http://{venue.address}/gamma",
            market_ws_url=f"ws://{venue.address}/ws/market",
            assets=["btc"],
            intervals_s=[300],
            gamma_poll_s=0.5,
            stats_interval_s=0.5,
            gap_threshold_s=GAP_THRESHOLD_S,
        )
        feeds = Feeds(settings, endpoints.kafka_bootstrap, fresh_database, only={"gamma", "market"})
        try:
            with on_thread(feeds.run):
                wait_for(lambda: "market" in feeds.runners, 10, "the market runner")
                runner = feeds.runners["market"]
                wait_for(lambda: runner.connected.is_set() and runner.counts["events"] > 0, 10, "book events")
                seen_from = venue.scenario.clock.now()

                def whole() -> list[tuple[str, str, datetime, Decimal]]:
                    return [r for r in completeness_rows_with_start(fresh_database) if r[2] >= seen_from]

                wait_for(lambda: bool(whole()), 90, "completeness of a window the channel saw whole")
                gaps = runner.counts["gaps"]
        finally:
            feeds.close()
    rows = whole()
    assert gaps == 0, "a healthy run"
    assert all(pct >= Decimal(99) for *_, pct in rows), rows


def completeness_rows_with_start(database: str) -> list[tuple[str, str, datetime, Decimal]]:
    with psycopg.connect(database) as conn:
        return conn.execute(
            "SELECT feed, window_id, start_ts, percent FROM feed_completeness WHERE feed = 'polymarket.market'"
        ).fetchall()
