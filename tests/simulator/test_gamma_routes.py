"""Gamma over real HTTP: lookups, filters, silent limit clamping, JSON-string fields, lifecycle."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from core.settlement import Verdict, derive_rule
from simulator.exchange import Exchange
from simulator.fixture_day import load_fixture_day
from simulator.gamma import GammaSettings, gamma_app
from simulator.loopback import serve_in_thread
from simulator.markets import ManualClock
from simulator.scenario import ScenarioSettings, build_scenario
from simulator.windows import WindowRegistry, WindowSettings, recorded_window, slug_for

NOW = datetime(2026, 9, 1, 12, 2, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def registry() -> WindowRegistry:
    reg = WindowRegistry(WindowSettings(horizon_s=3 * 3600), seed=7)
    reg.enable_schedule()
    reg.advance(NOW)
    return reg


@pytest.fixture(scope="module")
def gamma(registry: WindowRegistry) -> Iterator[httpx.Client]:
    app = gamma_app(registry, GammaSettings(default_limit=20, max_limit=50))
    with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=10) as client:
        yield client


def page_all(client: httpx.Client, path: str, params: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while True:
        page = client.get(path, params={**params, "offset": str(len(out)), "limit": "1000"}).json()
        if not page:
            return out
        out.extend(page)


def test_every_listed_window_parses_back_from_gamma(gamma: httpx.Client, registry: WindowRegistry) -> None:
    markets = page_all(gamma, "/markets", {})
    assert len(markets) == len(registry.listed()) > 100
    for market in markets:
        window = registry.get(market["slug"])
        assert window is not None
        tokens = json.loads(market["clobTokenIds"])
        outcomes = json.loads(market["outcomes"])
        assert isinstance(market["clobTokenIds"], str) and isinstance(market["outcomePrices"], str)
        assert dict(zip(outcomes, tokens, strict=True)) == {
            "Up": window.up_token_id,
            "Down": window.down_token_id,
        }
        assert market["conditionId"] == window.condition_id
        assert market["eventStartTime"] == window.start.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert market["endDate"] == window.end.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert derive_rule(market) == window.rule


def test_limit_is_clamped_silently(gamma: httpx.Client) -> None:
    response = gamma.get("/markets", params={"limit": "10000"})
    assert response.status_code == 200
    assert len(response.json()) == 50
    assert len(gamma.get("/markets").json()) == 20


def test_repeatable_slug_filter_and_slug_routes(gamma: httpx.Client, registry: WindowRegistry) -> None:
    slugs = sorted(w.slug for w in registry.listed())[:3]
    got = gamma.get("/markets", params=[("slug", s) for s in slugs]).json()
    assert sorted(m["slug"] for m in got) == slugs
    one = gamma.get(f"/markets/slug/{slugs[0]}")
    assert one.status_code == 200 and one.json()["slug"] == slugs[0]
    events = gamma.get("/events", params={"slug": slugs[0]}).json()
    assert events[0]["markets"][0]["slug"] == slugs[0]
    assert gamma.get(f"/events/slug/{slugs[0]}").json()["slug"] == slugs[0]
    assert gamma.get("/markets/slug/btc-updown-5m-1").status_code == 404
    assert gamma.get("/events/slug/btc-updown-5m-1").status_code == 404


def test_upcoming_windows_query_as_discovery_sends_it(gamma: httpx.Client) -> None:
    lo, hi = NOW, NOW + timedelta(minutes=20)
    params = {
        "tag_slug": "up-or-down",
        "closed": "false",
        "end_date_min": lo.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_date_max": hi.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "limit": "100",
    }
    events = gamma.get("/events", params=params).json()
    btc5 = sorted(e["slug"] for e in events if e["seriesSlug"] == "btc-up-or-down-5m")
    assert btc5 == [f"btc-updown-5m-{1788264000 + 300 * i}" for i in range(4)]
    for event in events:
        end = datetime.fromisoformat(event["endDate"].replace("Z", "+00:00"))
        assert lo <= end <= hi and not event["closed"]
    assert {e["seriesSlug"].split("-")[0] for e in events} == {"btc", "eth", "sol", "xrp"}


def test_bad_boolean_is_a_400(gamma: httpx.Client) -> None:
    assert gamma.get("/markets", params={"closed": "maybe"}).status_code == 400


def test_condition_and_token_filters(gamma: httpx.Client, registry: WindowRegistry) -> None:
    window = registry.listed()[5]
    by_cid = gamma.get("/markets", params={"condition_ids": window.condition_id}).json()
    by_token = gamma.get("/markets", params={"clob_token_ids": window.down_token_id}).json()
    assert [m["slug"] for m in by_cid] == [m["slug"] for m in by_token] == [window.slug]


def test_hourly_window_uses_the_et_long_slug_and_binance_source(gamma: httpx.Client) -> None:
    market = gamma.get("/markets/slug/bitcoin-up-or-down-september-1-2026-8am-et").json()
    assert market["eventStartTime"] == "2026-09-01T12:00:00Z"
    assert "binance" in market["resolutionSource"]
    assert market["question"] == "Bitcoin Up or Down - September 1, 8AM ET"


def test_lifecycle_closed_then_resolved_with_metadata_later() -> None:
    day = load_fixture_day()
    recorded = next(w for w in day.windows if w.slug == "btc-updown-5m-1780906500")
    reg = WindowRegistry()
    window = reg.add(recorded_window(recorded, reg.settings))
    with serve_in_thread(gamma_app(reg)) as base, httpx.Client(base_url=base) as client:
        reg.advance(window.start + timedelta(seconds=10))
        live = client.get(f"/markets/slug/{window.slug}").json()
        assert live["acceptingOrders"] and not live["closed"]
        assert "closedTime" not in live and "umaResolutionStatus" not in live
        reg.advance(window.end + timedelta(seconds=1))
        ended = client.get(f"/markets/slug/{window.slug}").json()
        assert not ended["acceptingOrders"] and not ended["closed"]
        reg.resolve(window.slug, Verdict.DOWN, window.resolve_at, Decimal("63000.5"), Decimal("62999"))
        reg.advance(window.resolve_at)
        done = client.get(f"/markets/slug/{window.slug}").json()
        assert done["closed"] and done["umaResolutionStatus"] == "resolved"
        assert done["outcomePrices"] == '["0", "1"]'
        assert done["closedTime"] == recorded.raw["closedTime"]
        assert "eventMetadata" not in client.get(f"/events/slug/{window.slug}").json()
        reg.advance(window.end + timedelta(seconds=61))
        meta = client.get(f"/events/slug/{window.slug}").json()["eventMetadata"]
        assert meta == {"priceToBeat": 63000.5, "finalPrice": 62999.0}


def test_event_metadata_carries_the_strike_and_final_price_the_scenario_resolved_on() -> None:
    start = datetime(2026, 9, 5, 12, 59, tzinfo=UTC)
    settings = ScenarioSettings(
        start=start, windows=WindowSettings(assets=("btc",), horizon_s=3600), liquidity=False
    )
    scenario = build_scenario("synthetic", 1.0, 4, Exchange(), settings=settings, clock=ManualClock(start))
    five = scenario.registry.get(f"btc-updown-5m-{int((start - timedelta(minutes=4)).timestamp())}")
    hourly = scenario.registry.get(slug_for("btc", 3600, start.replace(minute=0)))
    assert five is not None and hourly is not None
    with serve_in_thread(scenario.gamma_app()) as base, httpx.Client(base_url=base, timeout=10) as client:
        scenario.advance_to(hourly.end + timedelta(seconds=59))
        assert "eventMetadata" not in client.get(f"/events/slug/{hourly.slug}").json()
        scenario.advance_to(hourly.end + timedelta(seconds=61))
        by_slug = {r.slug: r.outcome for r in scenario.resolutions}
        for window in (five, hourly):
            outcome = by_slug[window.slug]
            assert outcome.strike is not None and outcome.close is not None
            expected = {"priceToBeat": float(outcome.strike), "finalPrice": float(outcome.close)}
            assert client.get(f"/events/slug/{window.slug}").json()["eventMetadata"] == expected
            listed = client.get("/events", params={"slug": window.slug}).json()
            assert listed[0]["eventMetadata"] == expected
            assert "eventMetadata" not in listed[0]["markets"][0]
