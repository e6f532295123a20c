"""The synthetic 15-minute book shape, read from the scenario's public `GET /book`, against the same
statistics of the real 15-minute books of the resolvedkit fixture (POLYMARKET.md §11b was measured
on them): at each time to close, the median favourite's depth within 5 cents of its touch must be
within a factor of three of the recorded median (or, where the recorded median is under 100 shares,
under 100 too), and the median spread, where both sides are quoted, within a factor of two.
"""

from __future__ import annotations

import bisect
import json
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial

import httpx
import pytest

from simulator.fixture_day import fixtures_dir
from simulator.markets import ManualClock
from simulator.recorded_books import RESOLVEDKIT, RecordedBooks, load_resolvedkit
from simulator.scenario import Scenario, ScenarioSettings, build_scenario
from simulator.windows import WindowSettings
from tests.simulator.conftest import fast_config, serve_scenario, wait_until

FOLDER = fixtures_dir() / RESOLVEDKIT
TAUS_S = (600, 300, 180, 90, 45)
T0 = datetime(2026, 9, 28, 9, 0, tzinfo=UTC)
WINDOWS = 10
THIN = Decimal(100)
NICKEL = Decimal("0.05")
Levels = Sequence[tuple[Decimal, Decimal]]


def favourite(bids: Levels, asks: Levels) -> tuple[Decimal, Decimal | None]:
    """(depth within 5 cents of the favourite's best ask, the favourite's spread or None) of an Up-space
    book; the favourite is the token with the higher mid (the Down book is the Up book's mirror)."""
    best_bid = max((p for p, _ in bids), default=None)
    best_ask = min((p for p, _ in asks), default=None)
    spread = best_ask - best_bid if best_bid is not None and best_ask is not None else None
    mid = ((best_bid or Decimal(0)) + (best_ask or Decimal(1))) / 2
    if mid >= Decimal("0.5"):  # Up leads: its asks
        depth = sum((s for p, s in asks if best_ask is not None and p <= best_ask + NICKEL), Decimal(0))
    else:  # Down leads: its asks are the Up bids
        depth = sum((s for p, s in bids if best_bid is not None and p >= best_bid - NICKEL), Decimal(0))
    return depth, spread


def medians(
    samples: dict[int, list[tuple[Decimal, Decimal | None]]],
) -> dict[int, tuple[Decimal, Decimal | None]]:
    out: dict[int, tuple[Decimal, Decimal | None]] = {}
    for tau, rows in samples.items():
        spreads = [s for _, s in rows if s is not None]
        out[tau] = (statistics.median(d for d, _ in rows), statistics.median(spreads) if spreads else None)
    return out


def recorded_shape() -> dict[int, tuple[Decimal, Decimal | None]]:
    books: RecordedBooks = load_resolvedkit(FOLDER)
    samples: dict[int, list[tuple[Decimal, Decimal | None]]] = {tau: [] for tau in TAUS_S}
    for market in books.markets:
        frames = books.frames[market.condition_id]
        times = [f.at for f in frames]
        for tau in TAUS_S:
            i = bisect.bisect_right(times, market.end - timedelta(seconds=tau))
            if i:
                samples[tau].append(favourite(frames[i - 1].bids, frames[i - 1].asks))
    return medians(samples)


def reached(scenario: Scenario, at: datetime) -> bool:
    return scenario.now >= at


def synthetic_shape(seed: int) -> dict[int, tuple[Decimal, Decimal | None]]:
    settings = ScenarioSettings(
        start=T0, windows=WindowSettings(assets=("btc",), intervals_s=(900,), horizon_s=3600)
    )
    clock = ManualClock(T0)
    scenario = build_scenario("synthetic", 1.0, seed, settings=settings, clock=clock)
    samples: dict[int, list[tuple[Decimal, Decimal | None]]] = {tau: [] for tau in TAUS_S}
    with serve_scenario(scenario, fast_config(seed=seed)) as sim:
        for k in range(WINDOWS):
            start = T0 + timedelta(seconds=900 * k)
            found = httpx.get(
                f"{sim.url}/gamma/markets", params={"slug": f"btc-updown-15m-{int(start.timestamp())}"}
            )
            up = json.loads(found.json()[0]["clobTokenIds"])[0]
            for tau in TAUS_S:
                at = start + timedelta(seconds=900 - tau)
                sim.call(clock.set, at)
                wait_until(partial(reached, scenario, at), 20, f"scenario time {at}")
                body = httpx.get(f"{sim.url}/book", params={"token_id": up}).json()
                bids = [(Decimal(lv["price"]), Decimal(lv["size"])) for lv in body["bids"]]
                asks = [(Decimal(lv["price"]), Decimal(lv["size"])) for lv in body["asks"]]
                samples[tau].append(favourite(bids, asks))
    return medians(samples)


def test_synthetic_15_minute_books_have_the_recorded_shape() -> None:
    recorded, synthetic = recorded_shape(), synthetic_shape(seed=11)
    report = {tau: (recorded[tau], synthetic[tau]) for tau in TAUS_S}
    for tau in TAUS_S:
        (real_depth, real_spread), (sim_depth, sim_spread) = recorded[tau], synthetic[tau]
        if real_depth < THIN:
            assert sim_depth < THIN, f"T-{tau}s depth: recorded {real_depth}, synthetic {sim_depth}; {report}"
        else:
            assert real_depth / 3 <= sim_depth <= real_depth * 3, f"T-{tau}s depth; {report}"
        if real_spread is not None and sim_spread is not None:
            assert real_spread / 2 <= sim_spread <= real_spread * 2, f"T-{tau}s spread; {report}"


@pytest.mark.parametrize("tau", [600])
def test_the_recorded_15_minute_books_match_polymarket_11b(tau: int) -> None:
    """The reference itself: §11b's 10-15 min row says ~8,700 shares and a one-tick spread."""
    depth, spread = recorded_shape()[tau]
    assert Decimal(8700) / 3 <= depth <= Decimal(8700) * 3 and spread == Decimal("0.01")
