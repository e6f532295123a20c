"""The window schedule: slugs and titles as the venue writes them, seeded ids, eras, Gamma field parity."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.settlement import RuleKind, SettlementRule, Verdict, derive_rule
from simulator.fixture_day import fixtures_dir, load_fixture_day
from simulator.gamma_objects import market_json
from simulator.windows import WindowRegistry, WindowSettings, question_for, rule_for, slug_for

NOW = datetime(2026, 9, 1, 12, 2, 30, tzinfo=UTC)


def schedule(seed: int, now: datetime = NOW, horizon_s: int = 86_400) -> WindowRegistry:
    registry = WindowRegistry(WindowSettings(horizon_s=horizon_s), seed=seed)
    registry.enable_schedule()
    registry.advance(now)
    return registry


def test_slugs_and_titles_match_the_venue_metadata_fixture() -> None:
    path = fixtures_dir() / "updown-markets-metadata" / "updown_markets.csv"
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 120
    for row in rows:
        asset = row["asset"].lower()
        interval_s = int(row["end_time"]) - int(row["start_time"])
        start = datetime.fromtimestamp(int(row["start_time"]), tz=UTC)
        assert slug_for(asset, interval_s, start) == row["slug"]
        assert (
            question_for(asset, interval_s, start, start + timedelta(seconds=interval_s)) == row["question"]
        )


def test_fixture_day_titles_match() -> None:
    for window in load_fixture_day().windows:
        assert question_for("btc", 300, window.start, window.end) == window.raw["question"]


@pytest.mark.parametrize(
    "start, slug",
    [
        (datetime(2026, 4, 16, 13, tzinfo=UTC), "bitcoin-up-or-down-april-16-2026-9am-et"),
        (datetime(2026, 12, 1, 17, tzinfo=UTC), "bitcoin-up-or-down-december-1-2026-12pm-et"),
        (datetime(2026, 12, 1, 5, tzinfo=UTC), "bitcoin-up-or-down-december-1-2026-12am-et"),
    ],
)
def test_hourly_slug_is_the_et_long_form(start: datetime, slug: str) -> None:
    assert slug_for("btc", 3600, start) == slug


def test_listed_about_a_day_ahead_with_seeded_ids() -> None:
    first, again, other = schedule(1), schedule(1), schedule(2)
    windows = first.listed()
    assert {w.slug for w in windows} == {w.slug for w in again.listed()}
    for window in windows:
        twin = again.get(window.slug)
        assert twin is not None
        assert (window.condition_id, window.up_token_id, window.down_token_id, window.resolve_at) == (
            twin.condition_id,
            twin.up_token_id,
            twin.down_token_id,
            twin.resolve_at,
        )
        assert re.fullmatch(r"0x[0-9a-f]{64}", window.condition_id)
        assert 0 < int(window.up_token_id) < 2**256 and window.up_token_id != window.down_token_id
        assert 15 <= (window.resolve_at - window.end).total_seconds() <= 60
        assert window.created_at <= NOW
        other_window = other.get(window.slug)
        assert other_window is not None and other_window.condition_id != window.condition_id
    latest = max(w.start for w in windows)
    assert NOW + timedelta(hours=23) < latest <= NOW + timedelta(hours=24, minutes=2)
    per_kind = {(w.asset, w.interval_s) for w in windows}
    assert per_kind == {(a, i) for a in ("btc", "eth", "sol", "xrp") for i in (300, 900, 3600)}


def test_schedule_does_not_depend_on_step_size() -> None:
    coarse = schedule(3, horizon_s=3600)
    fine = WindowRegistry(WindowSettings(horizon_s=3600), seed=3)
    fine.enable_schedule()
    moment = NOW - timedelta(minutes=10)
    while moment < NOW:
        moment += timedelta(seconds=37)
        fine.advance(min(moment, NOW))
    fine_slugs = {w.slug for w in fine.listed() if w.start >= NOW - timedelta(minutes=5)}
    coarse_slugs = {w.slug for w in coarse.listed() if w.start >= NOW - timedelta(minutes=5)}
    assert fine_slugs == coarse_slugs


@pytest.mark.parametrize(
    "start, interval_s, expected",
    [
        (datetime(2026, 8, 6, 23, 55, tzinfo=UTC), 300, SettlementRule.chainlink_spot("eth/usd")),
        (datetime(2026, 8, 7, 0, 0, tzinfo=UTC), 300, SettlementRule.chainlink_twap("eth/usd", 30)),
        (datetime(2026, 8, 7, 0, 0, tzinfo=UTC), 900, SettlementRule.chainlink_twap("eth/usd", 60)),
        (datetime(2026, 8, 14, 0, 0, tzinfo=UTC), 300, SettlementRule.chainlink_twap("eth/usd", 60)),
        (datetime(2026, 8, 14, 0, 0, tzinfo=UTC), 3600, SettlementRule.binance_1h_candle("ethusdt")),
    ],
)
def test_each_era_writes_its_rule_into_the_market_fields(
    start: datetime, interval_s: int, expected: SettlementRule
) -> None:
    assert rule_for("eth", interval_s, start) == expected
    registry = schedule(0, now=start, horizon_s=3600)
    window = registry.get(slug_for("eth", interval_s, start))
    assert window is not None
    market = market_json(window, start, registry.settings)
    assert derive_rule(market) == expected
    assert ("cryptoMarketConfig" in market) == (expected.kind is RuleKind.CHAINLINK_TWAP)


def type_map(obj: dict[str, object]) -> dict[str, str]:
    return {k: type(v).__name__ for k, v in obj.items()}


def test_resolved_synthetic_market_has_the_recorded_field_set_and_types() -> None:
    recorded = load_fixture_day().windows[0].raw
    registry = schedule(4, horizon_s=3600)
    window = next(w for w in registry.listed() if w.interval_s == 300 and w.asset == "btc")
    registry.resolve(window.slug, Verdict.UP, window.resolve_at, Decimal("1"), Decimal("2"))
    market = market_json(window, window.resolve_at + timedelta(seconds=1), registry.settings)
    extra = {"cryptoMarketConfig"}
    assert set(market) - extra == set(recorded)
    ours, theirs = type_map(market), type_map(recorded)
    floats_or_ints = {"float", "int"}
    for key, kind in theirs.items():
        assert ours[key] == kind or {ours[key], kind} <= floats_or_ints, key
    for key in ("clobTokenIds", "outcomes", "outcomePrices"):
        assert isinstance(json.loads(market[key]), list)
    assert market["outcomePrices"] == '["1", "0"]'
