"""Hourly windows settle on the Binance 1-hour candle: against the simulator (60x) serving klines
built from the prints it resolves on, the feeds process stores an hourly window's strike from the
candle's open, and only connects and produces: our outcome is the trading flow's
(tests/flows/test_window_checks_flow.py decides an hourly window from its closed candle)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import psycopg
import pytest

from core.settlement import Verdict
from infra import stack
from polywindow.settings import FeedSettings
from polywindow.wiring import Feeds
from sinks.postgres.migrate import migrate
from tests.integration.feeds_harness import on_thread, synthetic_venue, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.timeout(240)]

SPEED = 60.0

Row = tuple[str, datetime, Decimal | None, str | None, str | None]  # id, end, strike, ours, venue


def hourly_rows(database: str) -> list[Row]:
    with psycopg.connect(database) as conn:
        return conn.execute(
            "SELECT window_id, end_ts, strike, our_outcome, venue_outcome FROM windows WHERE interval_s = 3600"
        ).fetchall()


def test_feeds_stores_an_hourly_strike_from_the_candle_and_leaves_the_outcome_to_the_flow(
    endpoints: stack.Endpoints, fresh_database: str
) -> None:
    migrate(fresh_database)
    with synthetic_venue(SPEED) as venue:
        settings = FeedSettings(
            clob_url=f"http://{venue.address}",
            gamma_url=f"http://{venue.address}/gamma",
            binance_rest_url=f"http://{venue.address}/binance",
            binance_ws_url=f"ws://{venue.address}/binance",
            assets=["btc"],
            intervals_s=[3600],
            gamma_poll_s=0.5,
        )
        feeds = Feeds(settings, endpoints.kafka_bootstrap, fresh_database, only={"gamma", "klines"})
        try:
            with on_thread(feeds.run):
                wait_for(lambda: "klines" in feeds.runners, 10, "the klines runner")
                klines = feeds.runners["klines"]
                wait_for(lambda: klines.counts["events"] > 0, 20, "candles")
                candles_from = venue.scenario.clock.now()

                def resolved() -> list[Row]:
                    """Hourly windows that ended after the candles began, resolved by the venue."""
                    rows = hourly_rows(fresh_database)
                    return [r for r in rows if r[1] > candles_from and r[4] is not None and r[2] is not None]

                wait_for(
                    lambda: bool(resolved()), 150, "an hourly window with our strike, resolved by the venue"
                )
                counts = dict(klines.counts)
        finally:
            feeds.close()
        window_id, _end, strike, ours, venue_outcome = resolved()[0]
        simulated = venue.scenario.registry.get(window_id)
    assert counts["events"] > 0 and counts.get("quarantined", 0) == 0
    assert simulated is not None and simulated.verdict is not None
    assert venue_outcome == ("UP" if simulated.verdict is Verdict.UP else "DOWN")
    assert ours is None, "our outcome is the trading flow's, not the feeds process's"
    assert strike is not None and strike == simulated.strike, "the candle's open is the strike"
    with psycopg.connect(fresh_database) as conn:
        found = conn.execute(
            "SELECT kind, detail FROM window_discrepancies WHERE window_id = %s", (window_id,)
        ).fetchall()
    assert found == []
