"""The scenario as part A's server mounts it: Gamma at /gamma and RTDS at /rtds next to the CLOB."""

from __future__ import annotations

import json

import httpx
from websockets.sync.client import connect

from simulator.config import SimulatorConfig
from simulator.exchange import Exchange
from simulator.loopback import serve_in_thread
from simulator.server import build_app, load_scenario


def test_server_mounts_gamma_and_rtds_and_lists_the_replayed_markets() -> None:
    config = SimulatorConfig(seed=0)
    scenario = load_scenario("replay", config, 60.0)
    exchange = Exchange(config, scenario.clock)
    app = build_app(config, exchange, extra_routes=scenario.routes(exchange))
    slug = "btc-updown-5m-1780906500"
    with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=10) as client:
        market = client.get(f"/gamma/markets/slug/{slug}").json()
        assert market["slug"] == slug and isinstance(market["clobTokenIds"], str)
        events = client.get("/gamma/events", params={"slug": slug}).json()
        assert events[0]["markets"][0]["conditionId"] == market["conditionId"]
        up_token = json.loads(market["clobTokenIds"])[0]
        book = client.get("/book", params={"token_id": up_token})
        assert book.status_code == 200 and book.json()["market"] == market["conditionId"]
        with connect(base.replace("http://", "ws://") + "/rtds") as ws:
            assert ws.recv(timeout=5) == ""
