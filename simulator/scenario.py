"""Scenarios: what drives the simulated venue's windows, oracle prints and resting liquidity.

`advance_to(t)` is the whole engine: it replays, in time order, every lifecycle step and feed print
due by scenario time `t`, then requotes open windows. It never sleeps, so tests step a day in
seconds and stay deterministic; `run(...)` is the asyncio driver that calls it against a clock.

- `replay`: the recorded fixture day, with its real windows (slugs, ids, Gamma objects, resolution
  delays) and Chainlink prints relayed at their recorded send times; outcomes are recomputed.
- `synthetic`: the venue's calendar for BTC/ETH/SOL/XRP with seeded price paths.
Every window is resolved by the rule its own market data names, with `fallback` for a missing tick.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, WebSocketRoute

from simulator.binance import KlineHub, binance_routes
from simulator.config import SimulatorConfig
from simulator.exchange import Exchange
from simulator.fixture_day import load_fixture_day
from simulator.gamma import GammaSettings, gamma_app
from simulator.klines import KlineBook, binance_symbol
from simulator.liquidity import MakerSettings, MarketMaker
from simulator.markets import ManualClock, ScaledClock, SimClock, SimMarket
from simulator.oracle import (
    CHAINLINK,
    FeedPoint,
    FeedStore,
    ReplaySource,
    SyntheticFeedSettings,
    SyntheticSource,
)
from simulator.rtds import RtdsHub, RtdsSettings, rtds_app, rtds_endpoint
from simulator.settle import BoundaryFallback, OfficialOutcome, official_outcome
from simulator.windows import Stage, Window, WindowEvent, WindowRegistry, WindowSettings, recorded_window

SCENARIOS = ("synthetic", "replay")


class FeedSource(Protocol):
    def until(self, publish_ms: int) -> Iterator[FeedPoint]: ...


@dataclass(frozen=True, slots=True)
class ScenarioSettings:
    """Scenario knobs; each venue behaviour we are unsure of is one of them (POLYMARKET.md [?])."""

    boundary_fallback: BoundaryFallback = BoundaryFallback.LAST_BEFORE
    start: datetime | None = None
    windows: WindowSettings = field(default_factory=WindowSettings)
    feeds: SyntheticFeedSettings = field(default_factory=SyntheticFeedSettings)
    maker: MakerSettings = field(default_factory=MakerSettings)
    rtds: RtdsSettings = field(default_factory=RtdsSettings)
    gamma: GammaSettings = field(default_factory=GammaSettings)
    liquidity: bool = True
    fixture_folder: str | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    slug: str
    at: datetime
    outcome: OfficialOutcome


class Scenario:
    """Windows, feeds and liquidity on one exchange, stepped by `advance_to`."""

    def __init__(
        self,
        name: str,
        registry: WindowRegistry,
        source: FeedSource,
        settings: ScenarioSettings,
        start: datetime,
        seed: int,
        clock: SimClock,
    ) -> None:
        self.name, self.registry, self.source = name, registry, source
        self.settings, self.start, self.clock, self.seed = settings, start, clock, seed
        self.store = FeedStore()
        self.hub = RtdsHub(settings.rtds, seed)
        self.klines = KlineBook(binance_symbol(a) for a in settings.windows.assets)
        self.kline_hub = KlineHub(self.klines)
        self.resolutions: list[Resolution] = []
        self.now = start - timedelta(seconds=1)
        self._exchange: Exchange | None = None
        self._maker: MarketMaker | None = None

    @property
    def exchange(self) -> Exchange:
        if self._exchange is None:
            raise RuntimeError("scenario is not bound to an exchange yet (call bind)")
        return self._exchange

    @property
    def maker(self) -> MarketMaker:
        if self._maker is None:
            raise RuntimeError("scenario is not bound to an exchange yet (call bind)")
        return self._maker

    def bind(self, exchange: Exchange) -> None:
        """Attach the exchange (once): it takes the scenario's clock and the start-time state."""
        if self._exchange is exchange:
            return
        if self._exchange is not None:
            raise RuntimeError("scenario is already bound to another exchange")
        self._exchange = exchange
        self._maker = MarketMaker(exchange, self.settings.maker, self.seed)
        exchange.clock = self.clock
        self.advance_to(self.start)

    # --- routers for the server ------------------------------------------------------------------

    def gamma_app(self) -> Starlette:
        return gamma_app(self.registry, self.settings.gamma)

    def rtds_app(self) -> Starlette:
        return rtds_app(self.hub)

    def routes(self, exchange: Exchange | None = None) -> list[BaseRoute]:
        """Gamma at `/gamma`, RTDS at `/rtds` and Binance klines at `/binance`, for the server's
        `extra_routes` (binds `exchange`)."""
        if exchange is not None:
            self.bind(exchange)
        return [
            Mount("/gamma", app=self.gamma_app()),
            WebSocketRoute("/rtds", rtds_endpoint(self.hub)),
            Mount("/binance", routes=binance_routes(self.klines, self.kline_hub)),
        ]

    # --- stepping --------------------------------------------------------------------------------

    def advance_to(self, t: datetime) -> None:
        """Process everything due by scenario time `t`, in time order; moving backwards is a no-op."""
        if t.tzinfo is None:
            raise ValueError("t must be timezone-aware")
        if t <= self.now:
            return
        while (event := self.registry.pop_due(t)) is not None:
            self._feed_until(event.at)
            self._set_time(event.at)
            self._handle(event)
        self._feed_until(t)
        self._set_time(t)
        if self.settings.liquidity and self._maker is not None:
            self._requote(t)

    async def run(self, exchange: Exchange | None = None, interval_s: float = 0.05) -> None:
        """Follow the scenario clock forever (binding `exchange` first); cancel the task to stop."""
        if exchange is not None:
            self.bind(exchange)
        follow = self.clock
        while True:
            self.advance_to(follow.now())
            await asyncio.sleep(interval_s)

    def _set_time(self, at: datetime) -> None:
        self.now = at
        self.registry.now = at
        if isinstance(self.clock, ManualClock):
            self.clock.set(at)

    def _feed_until(self, at: datetime) -> None:
        for point in self.source.until(int(at.timestamp() * 1000)):
            self.store.add(point)
            self.hub.publish(point)
            self.klines.add(point)

    def _handle(self, event: WindowEvent) -> None:
        window = self.registry.get(event.slug)
        if window is None:
            return
        if event.stage is Stage.LISTED:
            self.exchange.add_market(sim_market(window))
        elif event.stage is Stage.CLOSED:
            self.maker.withdraw(window)
            self.exchange.close_market(window.condition_id)
        elif event.stage is Stage.RESOLVE_DUE:
            self._resolve(window, event.at)

    def _resolve(self, window: Window, at: datetime) -> None:
        outcome = official_outcome(
            window.rule, window.start, window.end, self.store, self.settings.boundary_fallback
        )
        self.registry.resolve(window.slug, outcome.verdict, at, outcome.strike, outcome.close)
        winner = window.winning_token
        if winner is not None:
            self.exchange.resolve_market(window.condition_id, winner)
        self.resolutions.append(Resolution(window.slug, at, outcome))

    def _spot(self, window: Window, at_ms: int) -> tuple[Decimal | None, Decimal | None]:
        """(latest price, strike) on the feed the window settles on, as known at `at_ms`."""
        topic = window.rule.rtds_topic or CHAINLINK
        symbol = window.rule.symbol
        latest = self.store.last_at_or_before(topic, symbol, at_ms)
        start_ms = int(window.start.timestamp()) * 1000
        strike = self.store.last_at_or_before(topic, symbol, start_ms) if at_ms >= start_ms else None
        return (latest[1] if latest else None), (strike[1] if strike else None)

    def _requote(self, t: datetime) -> None:
        for window in self._open_windows(t):
            if not self.maker.due(window, t):
                continue
            spot, strike = self._spot(window, int(t.timestamp() * 1000))
            self.maker.quote(window, t, spot, strike)

    def _open_windows(self, t: datetime) -> list[Window]:
        return [w for w in self.registry.listed() if w.start <= t < w.end]


def sim_market(window: Window) -> SimMarket:
    """The CLOB's view of a window (part A's SimMarket) from the registry's window."""
    base = window.base
    schedule = base.get("feeSchedule") or {}
    return SimMarket(
        condition_id=window.condition_id,
        slug=window.slug,
        question=window.question,
        asset=window.asset,
        interval_s=window.interval_s,
        up_token_id=window.up_token_id,
        down_token_id=window.down_token_id,
        start=window.start,
        end=window.end,
        tick_size=Decimal(str(base.get("orderPriceMinTickSize", "0.01"))),
        min_order_size=Decimal(str(base.get("orderMinSize", "5"))),
        fee_rate=Decimal(str(schedule.get("rate", "0.07"))) if base.get("feesEnabled", True) else Decimal(0),
        fee_exponent=int(schedule.get("exponent", 1)),
        market_id=window.market_id,
        description=str(base.get("description", "")),
    )


def _replay(settings: ScenarioSettings, seed: int, clock: SimClock | None, speed: float) -> Scenario:
    from pathlib import Path

    day = load_fixture_day(Path(settings.fixture_folder) if settings.fixture_folder else None)
    registry = WindowRegistry(settings.windows, seed)
    for recorded in day.windows:
        registry.add(recorded_window(recorded, registry.settings))
    start = settings.start or day.day_start
    source = ReplaySource(day.ticks, day.symbol)
    return Scenario("replay", registry, source, settings, start, seed, clock or ScaledClock(start, speed))


def _synthetic(settings: ScenarioSettings, seed: int, clock: SimClock | None, speed: float) -> Scenario:
    """Without a `start`, scenario time starts at the wall time (not rounded), so at speed 1 it is it."""
    clock = clock or ScaledClock(settings.start or datetime.now(UTC), speed)
    start = settings.start or clock.now()
    registry = WindowRegistry(settings.windows, seed)
    registry.enable_schedule()
    # The paths start at the hour's first second (or a minute back): windows already running when
    # the scenario starts, the current hourly one included, have their start print and full candle.
    warmup = max(60, settings.maker.levels, int(start.timestamp()) % 3600)
    source = SyntheticSource(settings.windows.assets, seed, int(start.timestamp()) - warmup, settings.feeds)
    return Scenario("synthetic", registry, source, settings, start, seed, clock)


def build_scenario(
    name: str,
    speed: float = 1.0,
    seed: int | None = None,
    exchange: Exchange | None = None,
    config: SimulatorConfig | None = None,
    settings: ScenarioSettings | None = None,
    clock: SimClock | None = None,
) -> Scenario:
    """Build `synthetic` or `replay`, on a scenario clock running at `speed` x wall time.

    `seed` defaults to `config.seed`. With `exchange` the scenario is bound at once; otherwise the
    server binds it through `routes(exchange)` or `run(exchange)`. A bound exchange's clock is
    replaced by the scenario's, so book and websocket timestamps follow scenario time. Pass `clock`
    (a ManualClock) to step time yourself with `advance_to`; otherwise a ScaledClock starts at the
    scenario's start time (the replay's day start, or the synthetic start: `settings.start`, else
    the wall time, so that a synthetic scenario at speed 1 runs on the wall clock).
    """
    conf = settings or ScenarioSettings()
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}: choose one of {', '.join(SCENARIOS)}")
    chosen_seed = seed if seed is not None else (config.seed if config is not None else 0)
    scenario = (_replay if name == "replay" else _synthetic)(conf, chosen_seed, clock, speed)
    if exchange is not None:
        scenario.bind(exchange)
    return scenario
