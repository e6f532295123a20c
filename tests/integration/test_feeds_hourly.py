"""Hourly windows are discovered from the simulator's Gamma (New York time slugs) for every asset,
with the condition id, token ids, start and end the simulator listed, and reach md.windows."""

from __future__ import annotations

import asyncio
import random
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import uvicorn

from connectors.kafka import EventProducer
from connectors.polymarket.gamma import WindowDiscovery
from core.models import WindowEvent
from infra import stack
from simulator.exchange import Exchange
from simulator.server import build_app, load_scenario, quiet_dropped_connections
from simulator.windows import slug_for
from tests.integration.feeds_harness import TopicTail, wait_for
from tests.simulator.conftest import fast_config

pytestmark = [pytest.mark.stack, pytest.mark.timeout(30)]

ASSETS = ["btc", "eth", "sol", "xrp"]


@dataclass
class Venue:
    address: str
    scenario: Any


@pytest.fixture
def venue() -> Iterator[Venue]:
    config = fast_config(seed=random.randrange(10**6))
    scenario = load_scenario("synthetic", config, 1.0)
    exchange = Exchange(config, scenario.clock)
    app = build_app(
        config, exchange, extra_routes=scenario.routes(exchange), background=[lambda: scenario.run(exchange)]
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", ws="websockets-sansio", lifespan="on"))
    quiet_dropped_connections()
    thread = threading.Thread(target=lambda: server.run(sockets=[sock]), daemon=True)
    thread.start()
    wait_for(lambda: server.started, 10, "the simulator")
    try:
        yield Venue(f"127.0.0.1:{sock.getsockname()[1]}", scenario)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


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
