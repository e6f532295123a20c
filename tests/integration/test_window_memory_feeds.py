"""A long run in a short time: the simulator's synthetic scenario at 600x (a 5-minute window every
half second), discovery on the scenario's clock, the market channel on its real socket. However many
windows go by, discovery's tables, the followed tokens and markets, the de-duplicator's keys and the
capture-rate counters hold only the windows still live, and capture rates are reported for the
followed tokens only."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from connectors.kafka import EventProducer
from connectors.polymarket.gamma import WindowDiscovery
from connectors.polymarket.market_ws import MarketChannel
from connectors.polymarket.user_ws import ApiCreds, UserChannel
from connectors.window_follow import WindowFollowers
from connectors.ws_runner import RunnerConfig, WsRunner
from core.enums import WindowPhase
from core.models import WindowEvent
from infra import stack
from tests.integration.feeds_harness import Venue, on_thread, synthetic_venue, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]

SPEED = 600.0
WINDOWS = 30  # 5-minute windows resolved and forgotten before the sizes are read


@pytest.fixture
def venue() -> Iterator[Venue]:
    with synthetic_venue(speed=SPEED) as running:
        yield running


def test_per_window_state_shrinks_back_as_windows_end(venue: Venue, endpoints: stack.Endpoints) -> None:
    producer = EventProducer(endpoints.kafka_bootstrap)
    box: dict[str, Any] = {"forgotten": [], "resolved": [], "sizes": []}
    now = venue.scenario.clock.now

    async def main() -> None:
        async with (
            httpx.AsyncClient(base_url=f"http://{venue.address}/gamma", timeout=10) as gamma,
            httpx.AsyncClient(base_url=f"http://{venue.address}", timeout=10) as clob,
        ):
            market = MarketChannel(f"ws://{venue.address}/ws/market", clob, feed=f"test.market.{id(box):x}")
            user = UserChannel("ws://unused", ApiCreds("k", SecretStr("s"), SecretStr("p")))
            runner = WsRunner(
                market,
                producer,
                None,
                RunnerConfig(ping_interval_s=None, silence_gap=None),
                now,
                random.random,
            )
            followers = WindowFollowers(market, user, [runner])

            def on_window(event: WindowEvent) -> None:
                followers.window(event)
                if event.phase is WindowPhase.RESOLVED:
                    box["resolved"].append(event.window_id)

            def on_forget(event: WindowEvent) -> None:
                followers.forget(event)
                box["forgotten"].append(event.window_id)

            discovery = WindowDiscovery(
                gamma, clob, producer, ["btc"], [300], now, on_window, poll_s=0.02, on_forget=on_forget
            )
            box.update(discovery=discovery, market=market, user=user, runner=runner)
            runner_task = asyncio.create_task(runner.run())
            try:
                while True:
                    await discovery.poll()
                    box["sizes"].append(sizes(discovery, market, user, runner))
                    await asyncio.sleep(0.02)
            finally:
                runner_task.cancel()

    with on_thread(main):
        wait_for(lambda: len(box["forgotten"]) >= WINDOWS, 90, f"{WINDOWS} windows forgotten")
        wait_for(lambda: box["runner"].counts["events"] > 0, 10, "market data")
    producer.flush()
    assert len(box["resolved"]) >= WINDOWS - 2, "windows resolved on the way (not just dropped)"
    late = box["sizes"][len(box["sizes"]) // 2 :]
    assert max(s["phases"] for s in late) <= 5  # 2 back, the current, the next (+1 at a boundary)
    assert max(s["tokens"] for s in late) <= 2 * 3, "followed: the current and next windows' tokens"
    assert max(s["markets"] for s in late) <= 5
    assert max(s["dedupe_subjects"] for s in late) <= 2 * 5
    assert max(s["rate_keys"] for s in late) <= 2 * 5
    rates = box["runner"].rates.rates(now(), box["market"].followed())
    assert set(rates) == set(box["market"].followed())


def sizes(
    discovery: WindowDiscovery, market: MarketChannel, user: UserChannel, runner: WsRunner
) -> dict[str, int]:
    return {
        "phases": len(discovery.windows.phases) + len(discovery.windows.invalid),
        "tokens": len(market.books),
        "markets": len(user.windows),
        "dedupe_subjects": runner.dedupe.subjects,
        "rate_keys": runner.rates.keys,
    }
