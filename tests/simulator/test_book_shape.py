"""The synthetic 5-minute books against §11c, read over HTTP from a served scenario; the end state;
the quote model's invariants under hypothesis."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.book_profile import FIFTEEN_MINUTE, FIVE_MINUTE, BookProfile
from simulator.book_stats import SAMPLE_TAUS_S, Sample, misses, sample, summarize
from simulator.config import SimulatorConfig
from simulator.markets import ManualClock
from simulator.quote_model import END_BID, WindowDraws, build_levels
from simulator.scenario import Scenario, ScenarioSettings, build_scenario
from simulator.windows import Window, WindowSettings
from tests.simulator.conftest import ScenarioSim, fast_config, serve_scenario

T0 = datetime(2026, 9, 5, 12, 0, tzinfo=UTC)
WINDOWS_PER_SEED = 40


def five_minute_scenario(seed: int, windows: int) -> Scenario:
    settings = ScenarioSettings(
        start=T0,
        windows=WindowSettings(assets=("btc",), intervals_s=(300,), horizon_s=(windows + 2) * 300),
    )
    return build_scenario("synthetic", 1.0, seed, settings=settings, clock=ManualClock(T0))


@pytest.fixture(params=[1, 2], ids=["seed1", "seed2"])
def served(request: pytest.FixtureRequest) -> Iterator[ScenarioSim]:
    config: SimulatorConfig = fast_config(seed=request.param)
    with serve_scenario(five_minute_scenario(request.param, WINDOWS_PER_SEED), config) as running:
        yield running


def windows_of(sim: ScenarioSim, count: int) -> list[Window]:
    chosen = sorted((w for w in sim.scenario.registry.all() if w.start >= T0), key=lambda w: w.start)
    return chosen[:count]


def books_at(
    sim: ScenarioSim, client: httpx.Client, window: Window, moment: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    sim.call(sim.scenario.advance_to, moment)
    up = client.get("/book", params={"token_id": window.up_token_id})
    down = client.get("/book", params={"token_id": window.down_token_id})
    assert up.status_code == 200 and down.status_code == 200
    return up.json(), down.json()


def best_bid(book: dict[str, Any]) -> Decimal:
    return max((Decimal(lv["price"]) for lv in book["bids"]), default=Decimal(0))


def test_sampled_books_fall_within_the_real_5m_shape_at_every_time(served: ScenarioSim) -> None:
    samples: dict[int, list[Sample]] = {tau: [] for tau in SAMPLE_TAUS_S}
    with httpx.Client(base_url=served.url, timeout=10) as client:
        for window in windows_of(served, WINDOWS_PER_SEED):
            for tau in SAMPLE_TAUS_S:
                up, down = books_at(served, client, window, window.end - timedelta(seconds=tau))
                samples[tau].append(sample(up, down))
    report = {tau: misses(tau, summarize(got)) for tau, got in samples.items()}
    assert report == {tau: [] for tau in SAMPLE_TAUS_S}


def test_last_20s_offer_no_favourite_under_099_and_bid_it_at_099(served: ScenarioSim) -> None:
    with httpx.Client(base_url=served.url, timeout=10) as client:
        for window in windows_of(served, 12):
            for tau in (20, 15, 10, 5, 1):
                up, down = books_at(served, client, window, window.end - timedelta(seconds=tau))
                fav = up if best_bid(up) >= best_bid(down) else down
                asks = [Decimal(lv["price"]) for lv in fav["asks"]]
                bids = {Decimal(lv["price"]): Decimal(lv["size"]) for lv in fav["bids"]}
                assert all(price >= END_BID for price in asks), (window.slug, tau, asks)
                assert max(bids) >= END_BID and bids.get(END_BID, Decimal(0)) >= 10_000, (window.slug, tau)


# --- the quote model's invariants --------------------------------------------------------------

draws_st = st.builds(
    WindowDraws,
    withdraw_u=st.floats(0, 1),
    wide_u=st.floats(0, 1),
    ask_factor=st.floats(0.2, 5),
    bid_factor=st.floats(0.2, 5),
    wall_factor=st.floats(0.5, 2),
)


@settings(max_examples=300, deadline=None)
@given(
    profile=st.sampled_from([FIVE_MINUTE, FIFTEEN_MINUTE]),
    tau=st.floats(0.5, 3600),
    p_up=st.floats(0.0, 1.0),
    fine=st.booleans(),
    draws=draws_st,
    jitter=st.integers(0, 2**32),
)
def test_quotes_never_cross_sit_on_the_tick_and_keep_the_end_state(
    profile: BookProfile, tau: float, p_up: float, fine: bool, draws: WindowDraws, jitter: int
) -> None:
    end = profile.end_state(tau)
    tick = Decimal("0.001") if fine or end else Decimal("0.01")
    levels = build_levels(profile, tau, p_up, tick, draws, random.Random(jitter))
    bids = [lv.price for lv in levels if lv.side == "bid"]
    asks = [lv.price for lv in levels if lv.side == "ask"]
    assert not bids or not asks or max(bids) < min(asks)
    assert all(tick <= lv.price <= 1 - tick and lv.price % tick == 0 and lv.size >= 5 for lv in levels)
    assert len({(lv.side, lv.price) for lv in levels}) == len(levels)
    if end:
        up_fav = p_up >= 0.5
        fav_asks = asks if up_fav else [1 - b for b in bids]
        fav_bids = bids if up_fav else [1 - a for a in asks]
        assert all(price >= END_BID for price in fav_asks)
        assert END_BID in fav_bids
    elif tau > profile.open_tau_s and (tick == Decimal("0.001") or 0.04 < p_up < 0.96):
        assert bids and asks  # mid-window both sides are always quoted
