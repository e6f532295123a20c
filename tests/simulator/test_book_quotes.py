"""Requotes that never flicker, and a tick that follows the book (§6.3), on a served scenario."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from simulator.markets import ManualClock
from simulator.scenario import Scenario, ScenarioSettings, build_scenario
from simulator.windows import Window, WindowSettings
from tests.simulator.conftest import fast_config, serve_scenario, wait_until
from tests.simulator.test_ws_channels import LocalBook, events

T0 = datetime(2026, 9, 5, 12, 0, tzinfo=UTC)
MID_WINDOW_S = 120  # before this many seconds to close a 5-minute book is two-sided (§11c shape)


def scenario(seed: int, speed: float, manual: bool) -> Scenario:
    settings = ScenarioSettings(
        start=T0, windows=WindowSettings(assets=("btc",), intervals_s=(300,), horizon_s=3600)
    )
    clock = ManualClock(T0) if manual else None
    return build_scenario("synthetic", speed, seed, settings=settings, clock=clock)


def first_window(s: Scenario) -> Window:
    window = min((w for w in s.registry.all() if w.start >= T0), key=lambda w: w.start)
    assert window.start == T0
    return window


def drain(ws: ClientConnection) -> list[dict[str, Any]]:
    frames: list[Any] = []
    while True:
        try:
            frames.append(ws.recv(timeout=0.005))
        except TimeoutError:
            return events(frames)


def scenario_ms(client: httpx.Client) -> int:
    return int(client.get("/_sim/clock").json()["now_ms"])


def test_mid_window_reads_never_see_an_empty_side_and_midpoint_always_answers() -> None:
    built = scenario(seed=4, speed=20.0, manual=False)
    local, seen, reads = LocalBook(), 0, 0
    flickers: list[tuple[Any, ...]] = []
    with (
        serve_scenario(built, fast_config(seed=4)) as sim,
        httpx.Client(base_url=sim.url, timeout=10) as client,
        connect(sim.url.replace("http://", "ws://") + "/ws/market", max_size=None) as ws,
    ):
        window = first_window(built)  # listed once the server has bound the scenario
        mid_until_ms = int((window.end - timedelta(seconds=MID_WINDOW_S)).timestamp() * 1000)
        tokens = [window.up_token_id, window.down_token_id]
        ws.send(json.dumps({"assets_ids": tokens, "type": "market"}))
        while scenario_ms(client) < mid_until_ms - 2000:
            for token in tokens:
                book = client.get("/book", params={"token_id": token}).json()
                mid = client.get("/midpoint", params={"token_id": token})
                reads += 1
                if not book["bids"] or not book["asks"] or mid.status_code != 200:
                    flickers.append(
                        (book["timestamp"], token, len(book["bids"]), len(book["asks"]), mid.status_code)
                    )
            for event in drain(ws):
                if int(event["timestamp"]) >= mid_until_ms:
                    continue
                local.apply(event)
                if event["event_type"] == "price_change":
                    seen += 1
                    for token in tokens:
                        bid, ask = local.top(token)
                        if bid is None or ask is None:
                            flickers.append((event["timestamp"], token, "socket"))
                    for change in event["price_changes"]:
                        # Each entry carries the top after the whole event: one net change.
                        if (change["best_bid"], change["best_ask"]) != local.top(change["asset_id"]):
                            flickers.append((event["timestamp"], change["asset_id"], "best"))
    assert reads >= 40 and seen >= 10, (reads, seen)
    assert flickers == []


def test_tick_moves_to_0001_when_the_book_passes_096_without_a_trade_and_gamma_follows() -> None:
    built = scenario(seed=3, speed=1.0, manual=True)
    switched: list[tuple[str, float]] = []
    with (
        serve_scenario(built, fast_config(seed=3)) as sim,
        httpx.Client(base_url=sim.url, timeout=10) as client,
    ):
        windows = sorted((w for w in built.registry.all() if w.start >= T0), key=lambda w: w.start)[:10]
        for window in windows:
            if len(switched) == 3:
                break
            up = window.up_token_id
            moment = window.start
            ticks_seen = []
            with connect(sim.url.replace("http://", "ws://") + "/ws/market", max_size=None) as ws:
                ws.send(json.dumps({"assets_ids": [up], "type": "market"}))
                while moment < window.end - timedelta(seconds=25):
                    moment += timedelta(seconds=5)
                    sim.call(built.advance_to, moment)
                    tick = Decimal(
                        str(client.get("/tick-size", params={"token_id": up}).json()["minimum_tick_size"])
                    )
                    ticks_seen.append(tick)
                    if tick != Decimal("0.001") and len(ticks_seen) > 1:
                        continue
                    gamma = client.get(f"/gamma/markets/slug/{window.slug}").json()
                    assert Decimal(str(gamma["orderPriceMinTickSize"])) == tick
                    if tick != Decimal("0.001"):
                        continue
                    book = client.get("/book", params={"token_id": up}).json()
                    bid = max((Decimal(lv["price"]) for lv in book["bids"]), default=Decimal(0))
                    ask = min((Decimal(lv["price"]) for lv in book["asks"]), default=Decimal(1))
                    mid = (bid + ask) / 2
                    assert mid > Decimal("0.96") or mid < Decimal("0.04"), (window.slug, bid, ask)
                    assert book["tick_size"] == "0.001"
                    assert client.get("/last-trade-price", params={"token_id": up}).json()["side"] == ""
                    wait_until(
                        lambda: any(e["event_type"] == "tick_size_change" for e in drain(ws)),
                        10,
                        "tick_size_change on the market channel",
                    )
                    switched.append((window.slug, (window.end - moment).total_seconds()))
                    break
            assert ticks_seen[0] == Decimal("0.01")
    assert len(windows) == 10 and len(switched) == 3, switched
