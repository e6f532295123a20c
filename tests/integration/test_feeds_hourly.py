"""Hourly windows are discovered from the simulator's Gamma (New York time slugs) for every asset,
with the condition id, token ids, start and end the simulator listed, and reach md.windows."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors.kafka import EventProducer
from connectors.polymarket.gamma import WindowDiscovery
from core.models import WindowEvent
from infra import stack
from simulator.windows import slug_for
from tests.integration.feeds_harness import TopicTail, Venue, synthetic_venue

pytestmark = [pytest.mark.stack, pytest.mark.timeout(30)]

ASSETS = ["btc", "eth", "sol", "xrp"]


@pytest.fixture
def venue() -> Iterator[Venue]:
    with synthetic_venue() as running:
        yield running


def test_hourly_windows_of_every_asset_are_discovered_as_the_venue_lists_them(
    venue: Venue, endpoints: stack.Endpoints
) -> None:
    tail = TopicTail(endpoints.kafka_bootstrap, endpoints.kafka_embedded, "md.windows")
    producer = EventProducer(endpoints.kafka_bootstrap)
    now = datetime.now(UTC)

    async def discover() -> list[WindowEvent]:
        async with (
            httpx.AsyncClient(base_url=f"http://{venue.address}/gamma") as gamma,
            httpx.AsyncClient(base_url=f"http://{venue.address}") as clob,
        ):
            discovery = WindowDiscovery(gamma, clob, producer, ASSETS, [3600], lambda: datetime.now(UTC))
            return await discovery.poll()

    found = {w.window_id: w for w in asyncio.run(discover())}
    producer.flush()

    hour = now.replace(minute=0, second=0, microsecond=0)
    listed = {
        w.slug: w
        for w in venue.scenario.registry.listed()
        if w.interval_s == 3600 and hour - timedelta(hours=2) <= w.start <= hour + timedelta(hours=1)
    }
    assert {slug_for(a, 3600, hour) for a in ASSETS} <= set(listed), "the simulator lists the current hour"
    assert set(found) == set(listed)
    for slug, window in listed.items():
        event = found[slug]
        assert (event.asset, event.interval_s) == (window.asset, 3600)
        assert event.condition_id == window.condition_id
        assert (event.up_token_id, event.down_token_id) == (window.up_token_id, window.down_token_id)
        assert (event.start_ts, event.end_ts) == (window.start, window.end)
        assert event.end_ts - event.start_ts == timedelta(hours=1)

    ids = {w.condition_id for w in found.values()}
    got = tail.read(
        lambda e: isinstance(e, WindowEvent) and e.condition_id in ids, lambda ev: len(ev) >= len(ids), 10
    )
    tail.close()
    assert sorted(e.condition_id for e in got) == sorted(w.condition_id for w in found.values())
