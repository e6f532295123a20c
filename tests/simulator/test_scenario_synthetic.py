"""The synthetic scenario: deterministic under a seed, books thin towards the close, rules per market."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from core.settlement import RuleKind, resolve_window
from simulator.exchange import Exchange
from simulator.markets import ManualClock
from simulator.scenario import Scenario, ScenarioSettings, build_scenario
from simulator.windows import WindowSettings

T0 = datetime(2026, 9, 5, 12, 0, tzinfo=UTC)


def synthetic(seed: int, assets: tuple[str, ...] = ("btc", "eth"), liquidity: bool = True) -> Scenario:
    settings = ScenarioSettings(
        start=T0,
        windows=WindowSettings(assets=assets, horizon_s=2 * 3600),
        liquidity=liquidity,
    )
    return build_scenario("synthetic", 1.0, seed, Exchange(), settings=settings, clock=ManualClock(T0))


def run(scenario: Scenario, step_s: int, until_s: int) -> None:
    moment = T0
    while moment < T0 + timedelta(seconds=until_s):
        moment = min(moment + timedelta(seconds=step_s), T0 + timedelta(seconds=until_s))
        scenario.advance_to(moment)


def fingerprint(scenario: Scenario) -> Any:
    resolutions = [
        (r.slug, r.at, r.outcome.verdict, r.outcome.strike, r.outcome.close) for r in scenario.resolutions
    ]
    windows = sorted((w.slug, w.condition_id, w.up_token_id) for w in scenario.registry.all())
    prices = sorted(scenario.store.prices("crypto_prices_chainlink", "btc/usd").items())
    return resolutions, windows, prices


def test_same_seed_same_steps_gives_identical_runs_books_included() -> None:
    first, second = synthetic(9), synthetic(9)
    run(first, 5, 1200)
    run(second, 5, 1200)
    assert fingerprint(first) == fingerprint(second)
    token = first.registry.get("btc-updown-15m-1788610500")
    assert token is not None
    strip = ("timestamp", "hash")
    books = [
        {k: v for k, v in s.exchange.book(token.up_token_id).items() if k not in strip}
        for s in (first, second)
    ]
    assert books[0] == books[1] and books[0]["bids"]


def test_prices_and_outcomes_do_not_depend_on_step_size_but_on_the_seed() -> None:
    coarse, fine, other = (
        synthetic(9, liquidity=False),
        synthetic(9, liquidity=False),
        synthetic(10, liquidity=False),
    )
    run(coarse, 97, 1200)
    run(fine, 3, 1200)
    run(other, 97, 1200)
    assert fingerprint(coarse) == fingerprint(fine)
    assert len(coarse.resolutions) >= 6
    assert fingerprint(other)[2] != fingerprint(coarse)[2]


def test_every_window_is_resolved_by_the_rule_its_market_names() -> None:
    scenario = synthetic(5, assets=("btc", "sol"), liquidity=False)
    run(scenario, 60, 3700)
    kinds = {r.outcome.settlement.rule.kind for r in scenario.resolutions}
    assert kinds == {RuleKind.CHAINLINK_TWAP, RuleKind.BINANCE_1H_CANDLE}
    for resolution in scenario.resolutions:
        window = scenario.registry.get(resolution.slug)
        assert window is not None
        rule = window.rule
        assert rule.rtds_topic is not None
        again = resolve_window(
            rule, window.start, window.end, scenario.store.prices(rule.rtds_topic, rule.symbol)
        )
        assert again.decided and again.verdict is resolution.outcome.verdict
        assert scenario.exchange.winner(window.condition_id) == window.winning_token


def favourite_depth(scenario: Scenario, up_token: str, down_token: str) -> tuple[bool, Decimal]:
    """(both sides quoted, favourite's ask depth within 5 cents of its best ask)."""
    up, down = scenario.exchange.book(up_token), scenario.exchange.book(down_token)
    both = bool(up["bids"]) and bool(up["asks"])
    up_bid = Decimal(up["bids"][-1]["price"]) if up["bids"] else Decimal(0)
    up_ask = Decimal(up["asks"][-1]["price"]) if up["asks"] else Decimal(1)
    favourite = down if (up_bid + up_ask) / 2 < Decimal("0.5") else up
    asks = favourite["asks"]
    if not asks:
        return both, Decimal(0)
    touch = Decimal(asks[-1]["price"])
    depth = sum(
        (Decimal(a["size"]) for a in asks if Decimal(a["price"]) <= touch + Decimal("0.05")), Decimal(0)
    )
    return both, depth


def test_books_thin_towards_the_close_as_the_venue_does() -> None:
    scenario = synthetic(21, assets=("btc", "eth", "sol", "xrp"))
    samples: dict[str, list[tuple[bool, Decimal]]] = {"10-15m": [], "1-2m": [], "30-60s": [], "last30s": []}
    band_of = {780: "10-15m", 90: "1-2m", 45: "30-60s", 10: "last30s"}
    windows = [
        w for w in scenario.registry.all() if w.interval_s == 900 and T0 <= w.start < T0 + timedelta(hours=1)
    ]
    assert len(windows) == 16
    checkpoints = sorted(
        {(w.end - timedelta(seconds=tau), w, tau) for w in windows for tau in band_of}, key=lambda x: x[0]
    )
    for moment, window, tau in checkpoints:
        scenario.advance_to(moment)
        samples[band_of[tau]].append(favourite_depth(scenario, window.up_token_id, window.down_token_id))

    def both_rate(band: str) -> float:
        return sum(both for both, _ in samples[band]) / len(samples[band])

    def median_depth(band: str) -> Decimal:
        depths = sorted(depth for _, depth in samples[band])
        return depths[len(depths) // 2]

    assert both_rate("10-15m") == 1.0 and median_depth("10-15m") >= Decimal(5000)
    assert both_rate("1-2m") < 1.0 and median_depth("1-2m") <= Decimal(100)
    assert both_rate("30-60s") <= 0.5 and median_depth("30-60s") == 0
    assert both_rate("last30s") == 0.0 and all(depth == 0 for _, depth in samples["last30s"])
