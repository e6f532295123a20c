"""Strikes against the simulator (20x): a 5-minute window gets our strike from its start print while
it is still open, and once Gamma publishes the event's eventMetadata the venue's priceToBeat is
stored next to it and agrees (no 'strike' discrepancy)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal

import httpx
import psycopg
import pytest

from connectors.kafka import EventProducer
from connectors.polymarket.gamma import WindowDiscovery
from connectors.polymarket.gamma_parse import VenuePrices
from core.window_integrity import strikes_agree
from infra import stack
from polywindow.settings import FeedSettings
from polywindow.wiring import Feeds
from sinks.postgres.migrate import migrate
from tests.integration.feeds_harness import on_thread, synthetic_venue, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.timeout(150)]

# Discovery names windows by our clock: the venue's lead over it ((speed - 1) x start-up time) must
# stay well under a window for a listed window to still be open when RTDS connects.
SPEED = 20.0

Row = tuple[str, datetime, Decimal | None, Decimal | None]


def windows(database: str) -> dict[str, Row]:
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT window_id, end_ts, strike, venue_price_to_beat FROM windows").fetchall()
    return {r[0]: r for r in rows}


def test_a_window_gets_its_strike_while_open_and_the_venues_price_to_beat_agrees(
    endpoints: stack.Endpoints, fresh_database: str
) -> None:
    migrate(fresh_database)
    with synthetic_venue(SPEED) as venue:
        settings = FeedSettings(
            clob_url=f"http://{venue.address}",
            gamma_url=f"http://{venue.address}/gamma",
            rtds_url=f"ws://{venue.address}/rtds",
            assets=["btc"],
            intervals_s=[300],
            gamma_poll_s=0.5,
        )
        feeds = Feeds(settings, endpoints.kafka_bootstrap, fresh_database, only={"gamma", "rtds"})
        struck_while_open: dict[str, Decimal] = {}

        def a_strike_while_open() -> bool:
            venue_now = venue.scenario.clock.now()
            for window_id, end_ts, strike, _venue in windows(fresh_database).values():
                if strike is not None and venue_now < end_ts:
                    struck_while_open.setdefault(window_id, strike)
            return bool(struck_while_open)

        try:
            with on_thread(feeds.run):
                wait_for(a_strike_while_open, 60, "a window's strike while it is open")
                window_id, ours = next(iter(struck_while_open.items()))
                wait_for(
                    lambda: windows(fresh_database)[window_id][3] is not None, 30, "the venue's priceToBeat"
                )
        finally:
            feeds.close()
        simulated = venue.scenario.registry.get(window_id)
    _id, _end, stored, price_to_beat = windows(fresh_database)[window_id]
    assert stored == ours
    assert price_to_beat is not None and strikes_agree(ours, price_to_beat)
    assert simulated is not None and simulated.strike == ours, "the strike the simulator resolved on"
    with psycopg.connect(fresh_database) as conn:
        kinds = conn.execute(
            "SELECT kind FROM window_discrepancies WHERE window_id = %s", (window_id,)
        ).fetchall()
    assert ("strike",) not in kinds


def test_discovery_reports_the_venues_prices_once_per_resolved_window_and_forgets_it(
    endpoints: stack.Endpoints,
) -> None:
    """Gamma discovery asks for resolved windows' events until their eventMetadata appears, tells
    `on_prices` once per window, with the simulator's strike and final price read exactly, and
    keeps no entry for it afterwards."""
    heard: list[tuple[str, VenuePrices]] = []
    producer = EventProducer(endpoints.kafka_bootstrap)
    with synthetic_venue(SPEED) as venue:

        async def discover() -> WindowDiscovery:
            async with (
                httpx.AsyncClient(base_url=f"http://{venue.address}/gamma") as gamma,
                httpx.AsyncClient(base_url=f"http://{venue.address}") as clob,
            ):
                discovery = WindowDiscovery(gamma, clob, producer, ["btc"], [300], venue.scenario.clock.now)
                discovery.on_prices = lambda window, prices: heard.append((window.window_id, prices))
                deadline = asyncio.get_running_loop().time() + 60
                while not heard or discovery.awaiting_prices:
                    assert asyncio.get_running_loop().time() < deadline, "no prices for every resolved window"
                    await discovery.poll()
                    await asyncio.sleep(0.1)
                return discovery

        discovery = asyncio.run(discover())
        producer.flush()
        simulated = {w.slug: w for w in venue.scenario.registry.listed()}
    ids = [window_id for window_id, _ in heard]
    assert len(ids) == len(set(ids)) and not discovery.awaiting_prices
    for window_id, prices in heard:
        window = simulated[window_id]
        assert window.strike is not None and prices.price_to_beat is not None
        assert prices.price_to_beat == Decimal(repr(float(window.strike)))  # the JSON number, exactly
        assert strikes_agree(window.strike, prices.price_to_beat)
