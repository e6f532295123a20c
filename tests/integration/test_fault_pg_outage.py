"""The fault suite's database case, end to end: `feeds` (discovery, market socket, RTDS) runs while its
database refuses every connection for 30 s, and the market socket is cut by the venue in the middle
of it. Market data must not wait for the database: the socket reconnects at once (its gap stays
under 3 s), every frame is stamped when it is read, and every row written meanwhile (feed_stats,
windows, the gap of the cut) arrives once the database is back, in order.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import psycopg
import pytest

from infra import stack
from polywindow.settings import FeedSettings
from polywindow.wiring import Feeds
from sinks.postgres.migrate import migrate
from tests.integration.feeds_harness import TopicTail, Venue, on_thread, synthetic_venue, wait_for
from tests.integration.test_ops_outage import set_reachable
from tests.simulator.conftest import admin_token

pytestmark = [pytest.mark.stack, pytest.mark.timeout(180)]

OUTAGE_S = 30.0
MARKET = "polymarket.market"


@pytest.fixture
def venue() -> Iterator[Venue]:
    with synthetic_venue(assets=("btc",)) as running:
        yield running


def rows(database: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(database) as conn:
        return conn.execute(sql, args).fetchall()


def test_a_database_outage_holds_back_no_market_data_and_loses_no_row(
    venue: Venue, endpoints: stack.Endpoints, fresh_database: str
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
    books = TopicTail(endpoints.kafka_bootstrap, endpoints.kafka_embedded, "md.book")
    feeds = Feeds(settings, endpoints.kafka_bootstrap, fresh_database, only={"gamma", "market", "rtds"})
    try:
        with on_thread(feeds.run):
            wait_for(
                lambda: "market" in feeds.runners and feeds.runners["market"].counts["events"] > 20,
                90,  # a deadline for a loaded machine's start, not a measure
                "market data flowing",
            )
            wait_for(lambda: bool(rows(fresh_database, "SELECT 1 FROM feed_stats")), 10, "a first stats row")
            market = feeds.runners["market"]
            set_reachable(endpoints.database_url, fresh_database, False)
            down_at, down_mono = feeds.now(), time.monotonic()
            wait_for(lambda: feeds.writes.depth > 0, 10, "writes held by the outage")

            reconnects = market.counts["reconnects"]
            cut = httpx.post(
                f"http://{venue.address}/_admin/ws/disconnect",
                json={"channel": "market"},
                headers={"X-Admin-Token": admin_token()},
            )
            assert cut.json()["closed"] == 1
            wait_for(
                lambda: market.counts["reconnects"] > reconnects and market.connected.is_set(),
                10,
                "the market socket back",
            )
            wait_for(lambda: time.monotonic() - down_mono >= OUTAGE_S, OUTAGE_S + 5, "the outage's end")
            windows_seen = set(feeds.windows)  # windows known and not yet reported on
            up_at = feeds.now()
            set_reachable(endpoints.database_url, fresh_database, True)
            wait_for(lambda: feeds.writes.depth == 0, 60, "the held writes")
            windows = rows(fresh_database, "SELECT up_token_id, down_token_id FROM windows")
            ours = {token for pair in windows for token in pair}
            during = books.drain(
                lambda e: getattr(e, "token_id", None) in ours and down_at <= e.recv_ts <= up_at
            )
    finally:
        set_reachable(endpoints.database_url, fresh_database, True)
        feeds.close()
        books.close()

    # the socket did not wait for the database: data kept coming all through, each frame stamped when
    # it was read (a reader held back by a write would stamp a queued frame seconds after its send)
    stamps = sorted(e.recv_ts for e in during)
    assert stamps and stamps[0] - down_at < timedelta(seconds=6) and up_at - stamps[-1] < timedelta(seconds=6)
    assert all(e.recv_ts - e.source_ts < timedelta(seconds=1) for e in during)

    # every row written during the outage arrived, in order
    gaps = rows(fresh_database, "SELECT started_at, ended_at, detail FROM feed_gaps WHERE feed = %s", MARKET)
    # the cut's gap starts at the last frame before it, so it is found by its end and its reason
    cut_gaps = [
        (s, e)
        for s, e, why in gaps
        if e is not None and down_at <= e <= up_at and why.startswith("disconnected")
    ]
    assert len(cut_gaps) == 1
    assert cut_gaps[0][1] - cut_gaps[0][0] < timedelta(seconds=3)
    alerted = rows(fresh_database, "SELECT event_ts FROM alerts WHERE kind = 'feed.gap'")
    assert [at for (at,) in alerted if down_at <= at <= up_at]  # the cut's alert, raised mid-outage
    stats = rows(fresh_database, "SELECT measured_at FROM feed_stats WHERE feed = %s ORDER BY id", MARKET)
    held = [at for (at,) in stats if down_at <= at <= up_at]
    assert len(held) >= OUTAGE_S * 0.8  # one per second of the outage, give or take a slow round
    assert [at for (at,) in stats] == sorted(at for (at,) in stats)
    stored = {w for (w,) in rows(fresh_database, "SELECT window_id FROM windows")}
    assert windows_seen and windows_seen <= stored
    assert feeds.writes.counts["overflow"] == 0
