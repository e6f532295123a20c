"""Acceptance: the fixture-day replay resolves every in-day window with a strike as recorded."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.settlement import Verdict
from simulator.chain import redeem_positions
from simulator.exchange import Exchange
from simulator.fixture_day import FixtureDay, load_fixture_day
from simulator.gamma_objects import market_json
from simulator.markets import ManualClock, ScaledClock
from simulator.scenario import Scenario, ScenarioSettings, build_scenario
from simulator.settle import BoundaryFallback

DAY = datetime(2026, 6, 8, tzinfo=UTC)
HOLDER = "0x00000000000000000000000000000000000000aa"


@pytest.fixture(scope="module")
def day() -> FixtureDay:
    return load_fixture_day()


@pytest.fixture(scope="module")
def replayed(day: FixtureDay) -> Scenario:
    exchange = Exchange()
    scenario = build_scenario("replay", 60.0, 0, exchange, clock=ManualClock(DAY))
    first = next(w for w in day.windows_inside_day() if w.slug == "btc-updown-5m-1780906500")
    exchange.set_balance(HOLDER, first.down_token_id, Decimal("10"))
    exchange.set_balance(HOLDER, "COLLATERAL", Decimal("0"))
    moment = DAY
    while moment < DAY + timedelta(days=1, minutes=3):
        moment += timedelta(seconds=20)
        scenario.advance_to(moment)
    return scenario


def test_every_in_day_window_with_a_strike_resolves_as_recorded(day: FixtureDay, replayed: Scenario) -> None:
    targets = [w for w in day.windows_inside_day() if w.strike is not None]
    assert len(targets) == 283
    by_slug = {r.slug: r for r in replayed.resolutions}
    agree = [w.slug for w in targets if by_slug[w.slug].outcome.verdict is w.outcome]
    assert len(agree) == 283
    for window in targets:
        resolution = by_slug[window.slug]
        assert resolution.outcome.strike == window.strike, window.slug
        assert resolution.outcome.settlement.rule.name == "CHAINLINK_SPOT"


def test_the_boundary_fallback_is_used_only_where_the_close_tick_is_missing(replayed: Scenario) -> None:
    used = sorted(r.slug for r in replayed.resolutions if r.outcome.fallback_used)
    decided_by_rule = [r for r in replayed.resolutions if not r.outcome.fallback_used]
    assert {
        "btc-updown-5m-1780878900",
        "btc-updown-5m-1780930200",
        "btc-updown-5m-1780946400",
        "btc-updown-5m-1780958400",
    } <= set(used)
    assert all(r.outcome.settlement.decided for r in decided_by_rule)
    assert all(not r.outcome.settlement.decided for r in replayed.resolutions if r.slug in used)


def test_windows_resolve_at_their_recorded_closed_time_and_gamma_shows_it(
    day: FixtureDay, replayed: Scenario
) -> None:
    for recorded in day.windows_inside_day():
        window = replayed.registry.get(recorded.slug)
        assert window is not None and window.resolved_at is not None
        assert window.resolved_at.strftime("%Y-%m-%d %H:%M:%S+00") == recorded.raw["closedTime"]
        if recorded.strike is None:
            continue
        market = market_json(window, replayed.now, replayed.registry.settings)
        assert market["outcomePrices"] == recorded.raw["outcomePrices"]
        assert market["clobTokenIds"] == recorded.raw["clobTokenIds"]
        assert market["conditionId"] == recorded.condition_id and market["closed"]


def test_the_market_is_resolved_on_the_exchange_and_winners_are_paid_once_they_redeem(
    day: FixtureDay, replayed: Scenario
) -> None:
    recorded = next(w for w in day.windows if w.slug == "btc-updown-5m-1780906500")
    assert recorded.outcome is Verdict.DOWN
    exchange = replayed.exchange
    assert exchange.winner(recorded.condition_id) == recorded.down_token_id
    assert exchange.balance(HOLDER, "COLLATERAL") == Decimal("0"), "resolution alone pays nothing"
    assert exchange.balance(HOLDER, recorded.down_token_id) == Decimal("10")
    assert redeem_positions(exchange, HOLDER, recorded.condition_id) == ""
    assert exchange.balance(HOLDER, "COLLATERAL") == Decimal("10")
    assert exchange.balance(HOLDER, recorded.down_token_id) == Decimal("0")
    assert exchange.market(recorded.condition_id).slug == recorded.slug


def test_first_after_fallback_is_a_setting(day: FixtureDay) -> None:
    settings = ScenarioSettings(boundary_fallback=BoundaryFallback.FIRST_AFTER, liquidity=False)
    scenario = build_scenario("replay", 1.0, 0, Exchange(), settings=settings, clock=ManualClock(DAY))
    target = next(w for w in day.windows if w.slug == "btc-updown-5m-1780946400")
    scenario.advance_to(target.end + timedelta(minutes=3))
    resolution = next(r for r in scenario.resolutions if r.slug == target.slug)
    assert resolution.outcome.fallback_used and resolution.outcome.verdict is target.outcome
    assert resolution.outcome.close is not None
    assert json.loads(target.raw["outcomePrices"]) == ["0", "1"]


def test_speed_factor_drives_the_scenario_clock() -> None:
    exchange = Exchange()
    scenario = build_scenario("replay", 600.0, 0, exchange, settings=ScenarioSettings(liquidity=False))
    assert isinstance(scenario.clock, ScaledClock) and exchange.clock is scenario.clock
    assert scenario.clock.speed == 600.0
    target = DAY + timedelta(minutes=5)

    async def drive() -> None:
        task = asyncio.create_task(scenario.run(interval_s=0.01))
        deadline = asyncio.get_running_loop().time() + 10
        while scenario.now < target:
            assert asyncio.get_running_loop().time() < deadline, "scenario time did not reach 00:05"
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(drive())
    # What a client sees: the first window of the day has run out on the exchange, prints went out.
    first = next(m for m in exchange.markets() if m.slug == "btc-updown-5m-1780876800")
    assert exchange.is_closed(first.condition_id)
    assert scenario.hub.now_ms >= int(DAY.timestamp() * 1000)
