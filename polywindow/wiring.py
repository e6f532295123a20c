"""Construction of `polywindow feeds`: every connector as a supervised asyncio task in one process.

One process, because the connectors are I/O-bound and share state that would otherwise have to go
through Kafka: Gamma discovery decides which tokens the market channel and which markets the user
channel follow, and all of them share one producer and one database pool. `--only` runs a subset,
so a connector can still get a process (and a core) of its own when its parsing load needs one.
Construction only: the logic is in core/, connectors/ and sinks/.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import httpx
import structlog
from psycopg_pool import ConnectionPool

from connectors.binance_klines import BinanceKlineChannel
from connectors.delivery import DeliveryWatch
from connectors.kafka import EventProducer
from connectors.polymarket.gamma import WindowDiscovery, venue_clock
from connectors.polymarket.gamma_parse import VenuePrices
from connectors.polymarket.market_ws import MarketChannel
from connectors.polymarket.user_ws import ApiCreds, UserChannel
from connectors.rtds import RtdsChannel
from connectors.window_follow import WindowFollowers
from connectors.ws_runner import Channel, RunnerConfig, WsRunner
from core.backoff import Backoff
from core.enums import WindowPhase
from core.feed_monitor import completeness_due
from core.models import Candle, OracleTick, WindowEvent
from core.window_integrity import (
    CandleHistory,
    OracleHistory,
    StrikeWatch,
    check_strike,
    check_window,
    discrepancy_alert,
    our_outcome_label,
    our_settlement,
    our_strike,
)
from polywindow.settings import FeedSettings
from sinks.postgres.ops import OpsWriter

log = structlog.get_logger(__name__)

CONNECTORS = ("gamma", "market", "user", "rtds", "klines")
DELIVERY_CHECK_S = 1.0  # how late a Kafka delivery failure may be reported


def now() -> datetime:
    return datetime.now(UTC)


async def supervise(name: str, job: Callable[[], Awaitable[None]], backoff: Backoff) -> None:
    """Restart a task that died of a bug, with jittered backoff; a crash never ends the process."""
    attempt = 0
    while True:
        try:
            await job()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("feeds.task_crashed", task=name)
            await asyncio.sleep(backoff.delay(min(attempt, 10), random.random))
            attempt += 1


async def every(interval_s: float, job: Callable[[], Awaitable[None]]) -> None:
    while True:
        await job()
        await asyncio.sleep(interval_s)


class Feeds:
    """The running connectors and their periodic chores (clock offsets, stats, window completeness)."""

    def __init__(
        self, settings: FeedSettings, kafka_bootstrap: str, database_url: str, only: set[str]
    ) -> None:
        self.settings = settings
        self.only = only
        self.producer = EventProducer(kafka_bootstrap, settings.kafka_client())
        # A short wait for a connection, so a database outage turns into retries and pending gap rows
        # (OpsWriter) instead of a connector thread stuck for the pool's default 30 s.
        self.pool = ConnectionPool(database_url, min_size=1, max_size=4, open=True, timeout=5.0)
        self.ops = OpsWriter(self.pool)
        self.deliveries = DeliveryWatch(self.producer, self.ops, now)
        self.runners: dict[str, WsRunner] = {}
        self.windows: dict[str, WindowEvent] = {}
        self.discovered: dict[str, WindowEvent] = {}
        self.history = OracleHistory()
        self.candles = CandleHistory()
        self.strikes = StrikeWatch()  # windows waiting for their start print; forgotten at resolution
        self.market: MarketChannel | None = None

    def _runner(self, channel: Channel, ping: bool, silence: bool) -> WsRunner:
        s = self.settings
        config = RunnerConfig(
            ping_interval_s=s.ping_interval_s if ping else None,
            stale_after_s=s.stale_after_s,
            silence_gap=timedelta(seconds=s.gap_threshold_s) if silence else None,
        )
        return WsRunner(channel, self.producer, self.ops, config, now, random.random)

    async def run(self) -> None:
        s = self.settings
        async with (
            httpx.AsyncClient(base_url=s.clob_url, timeout=10) as clob,
            httpx.AsyncClient(base_url=s.gamma_url, timeout=10) as gamma,
            httpx.AsyncClient(base_url=s.binance_rest_url, timeout=10) as binance,
        ):
            self.market = market = MarketChannel(s.market_ws_url, clob)
            creds = s.api_creds()
            user = UserChannel(s.user_ws_url, ApiCreds(*creds)) if creds else None
            rtds = RtdsChannel(s.rtds_url, s.assets, on_tick=self._on_oracle_tick)
            if "market" in self.only:
                self.runners["market"] = self._runner(market, ping=True, silence=True)
            if "user" in self.only and user is not None:
                self.runners["user"] = self._runner(user, ping=True, silence=False)
            elif "user" in self.only:
                log.warning("feeds.user_skipped", why="POLY_API_KEY/SECRET/PASSPHRASE not set")
            if "rtds" in self.only:
                self.runners["rtds"] = self._runner(rtds, ping=False, silence=True)
            if "klines" in self.only:
                klines = BinanceKlineChannel(s.binance_ws_url, binance, s.assets, on_candle=self._on_candle)
                self.runners["klines"] = self._runner(klines, ping=False, silence=True)
            followers = WindowFollowers(market, user, self.runners.values())

            def on_window(event: WindowEvent) -> None:
                self.windows[event.window_id] = event
                followers.window(event)
                if event.phase is WindowPhase.RESOLVED:
                    self.strikes.forget(event.window_id)
                    self._check_integrity(event)
                else:
                    self.discovered.setdefault(event.window_id, event)
                    self.strikes.watch(event)
                asyncio.get_running_loop().create_task(
                    asyncio.to_thread(self.ops.upsert_window, self._with_strike(event))
                )

            def on_forget(event: WindowEvent) -> None:
                """Discovery dropped the window (its slug is no longer asked for): so does everyone."""
                followers.forget(event)
                self.strikes.forget(event.window_id)
                self.discovered.pop(event.window_id, None)
                self.windows.pop(event.window_id, None)

            backoff = Backoff(base_s=1.0, cap_s=30.0)
            async with asyncio.TaskGroup() as tasks:
                if "gamma" in self.only:
                    discovery = WindowDiscovery(
                        gamma, clob, self.producer, s.assets, s.intervals_s, now, on_window, s.gamma_poll_s,
                        on_forget=on_forget,
                    )  # fmt: skip
                    discovery.on_prices = self._on_venue_prices
                    tasks.create_task(supervise("gamma", discovery.run, backoff))
                for name, runner in self.runners.items():
                    tasks.create_task(supervise(name, runner.run, backoff))
                tasks.create_task(
                    supervise(
                        "clock", lambda: every(s.clock_interval_s, lambda: self._clock(clob, rtds)), backoff
                    )
                )
                tasks.create_task(supervise("stats", lambda: every(s.stats_interval_s, self._stats), backoff))
                tasks.create_task(
                    supervise("delivery", lambda: every(DELIVERY_CHECK_S, self._deliveries), backoff)
                )

    def _check_integrity(self, resolved: WindowEvent) -> None:
        """Our resolution vs the venue's; discrepancies stored and alerted (rows written off-loop)."""
        ours = our_settlement(resolved, self.history, self.candles)
        found = check_window(resolved, self.discovered.pop(resolved.window_id, None), ours)
        at = now()
        outcome = our_outcome_label(ours)
        jobs: list[Callable[[], None]] = [
            lambda: self.ops.record_our_outcome(resolved.window_id, outcome, at)
        ]
        for d in found:
            alert = discrepancy_alert(resolved.window_id, d, at)
            self.producer.produce("ops.alerts", alert)
            jobs.append(
                partial(
                    self.ops.record_discrepancy, resolved.window_id, d.kind, d.ours, d.venue, d.detail, at
                )
            )
            jobs.append(partial(self.ops.record_alert, alert))

        def write() -> None:
            for job in jobs:
                job()

        asyncio.get_running_loop().create_task(asyncio.to_thread(write))

    def _with_strike(self, window: WindowEvent) -> WindowEvent:
        strike = our_strike(window, self.history, self.candles)
        return window if strike is None else window.model_copy(update={"strike": strike})

    def _on_oracle_tick(self, tick: OracleTick) -> None:
        self.history.add(tick)
        self._store_strikes(self.strikes.due_oracle(tick))

    def _on_candle(self, candle: Candle) -> None:
        self.candles.add(candle)
        self._store_strikes(self.strikes.due_candle(candle))

    def _store_strikes(self, windows: list[WindowEvent]) -> None:
        """A start print arrived: the strike of the windows it starts, stored while they are open."""
        for window in windows:
            row = self._with_strike(window)
            if row.strike is not None and self.strikes.changed(window.window_id, row.strike):
                asyncio.get_running_loop().create_task(asyncio.to_thread(self.ops.upsert_window, row))

    def _on_venue_prices(self, window: WindowEvent, prices: VenuePrices) -> None:
        """The venue's priceToBeat/finalPrice stored; a priceToBeat unlike our strike is a discrepancy."""
        at = now()
        jobs: list[Callable[[], None]] = [
            partial(self.ops.record_venue_prices, window, prices.price_to_beat, prices.final_price, at)
        ]
        ours = our_strike(window, self.history, self.candles)
        found = None if prices.price_to_beat is None else check_strike(ours, prices.price_to_beat)
        if found is not None:
            alert = discrepancy_alert(window.window_id, found, at)
            self.producer.produce("ops.alerts", alert)
            jobs.append(
                partial(
                    self.ops.record_discrepancy,
                    window.window_id,
                    found.kind,
                    found.ours,
                    found.venue,
                    found.detail,
                    at,
                )
            )
            jobs.append(partial(self.ops.record_alert, alert))

        def write() -> None:
            for job in jobs:
                job()

        asyncio.get_running_loop().create_task(asyncio.to_thread(write))

    async def _clock(self, clob: httpx.AsyncClient, rtds: RtdsChannel) -> None:
        try:
            samples = [await venue_clock(clob, now)]
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("feeds.clock_failed", error=str(exc)[:200])
            samples = []
        while rtds.clock_samples:
            samples.append(rtds.clock_samples.popleft())
        for sample in samples:
            await asyncio.to_thread(self.ops.record_clock, sample)

    async def _deliveries(self) -> None:
        await asyncio.to_thread(self.deliveries.check)

    async def _stats(self) -> None:
        await asyncio.to_thread(self.ops.flush_pending)  # gap rows a database outage held back
        at = now()
        self.strikes.expire(at)
        for runner in self.runners.values():
            age = runner.monitor.age(at) / timedelta(milliseconds=1)
            await asyncio.to_thread(self.ops.record_feed_stats, runner.feed, at, dict(runner.counts), age)
        market = self.runners.get("market")
        if market is not None:
            followed = self.market.followed() if self.market is not None else []
            await asyncio.to_thread(self.ops.record_capture_rates, market.rates.rates(at, followed), at)
        data_feeds = [r for r in self.runners.values() if not r.feed.endswith("user")]
        event_now = max((t for r in data_feeds if (t := r.completeness.newest) is not None), default=None)
        data_now = at if event_now is None else max(at, event_now)
        ends = [(w.window_id, w.end_ts) for w in self.windows.values()]
        for window_id in completeness_due(ends, at, event_now):
            window = self.windows.pop(window_id)  # a later phase of it re-adds it and updates the row
            for runner in data_feeds:
                pct = runner.completeness.percent(window.start_ts, window.end_ts, data_now)
                await asyncio.to_thread(
                    self.ops.record_completeness,
                    runner.feed,
                    window.window_id,
                    window.start_ts,
                    window.end_ts,
                    pct,
                    at,
                )

    def close(self) -> None:
        self.producer.flush()
        self.pool.close()
