"""SimulatorClock follows the simulator's scenario time at its speed: `now()` agrees with `/_sim/clock`,
`sleep(s)` lasts `s` scenario seconds, re-anchoring never moves time back, and a start without a
simulator fails with a message naming the URL."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest

from connectors.clock import ClockUnavailable, SimulatorClock
from core.timestamps import from_ms
from tests.integration.feeds_harness import Venue, synthetic_venue

pytestmark = [pytest.mark.timeout(60)]

SPEED = 60.0


@pytest.fixture
def venue() -> Iterator[Venue]:
    with synthetic_venue(SPEED, assets=("btc",)) as running:
        yield running


def venue_now(venue: Venue) -> tuple[float, datetime]:
    body = httpx.get(f"http://{venue.address}/_sim/clock", timeout=5).json()
    return float(body["speed"]), from_ms(body["now_ms"])


def test_now_and_sleep_follow_scenario_time_at_60x(venue: Venue) -> None:
    clock = SimulatorClock(f"http://{venue.address}", every_wall_s=0.05).start()
    assert clock.speed == SPEED
    before = clock.now()
    _speed, theirs = venue_now(venue)
    after = clock.now()
    assert before - timedelta(seconds=3) <= theirs <= after + timedelta(seconds=3)  # 3 s = 50 ms of wall

    async def sleep_and_follow() -> list[datetime]:
        follower = asyncio.create_task(clock.follow())  # re-anchors every 50 ms meanwhile
        seen = [clock.now()]
        for _ in range(20):
            await clock.sleep(6.0)
            seen.append(clock.now())
        follower.cancel()
        return seen

    seen = asyncio.run(sleep_and_follow())
    doubt = timedelta(seconds=3)  # a re-anchor may correct the time by a fraction of a round trip
    assert all(b >= a + timedelta(seconds=6) - doubt for a, b in itertools.pairwise(seen))
    assert seen[-1] - seen[0] >= timedelta(seconds=120) - doubt
    _speed, theirs = venue_now(venue)
    assert abs(theirs - clock.now()) < timedelta(seconds=3)


def test_a_start_without_a_simulator_names_the_url() -> None:
    with pytest.raises(ClockUnavailable, match=r"127\.0\.0\.1:9/_sim/clock"):
        SimulatorClock("http://127.0.0.1:9", timeout_s=1).start()
