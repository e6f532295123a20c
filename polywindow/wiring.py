"""Construction of `polywindow feeds`: every connector as a supervised asyncio task in one process.

One process, because the connectors are I/O-bound and share state that would otherwise have to go
through Kafka: Gamma discovery decides which tokens the market channel and which markets the user
channel follow, and all of them share one producer, one clock, one database pool and one ordered
database writer. `--only` runs a subset, so a connector can still get a process (and a core) of its
own when its parsing load needs one. Construction only: the logic is in core/, connectors/ and sinks/.
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta
from functools import partial

import httpx
import structlog
from psycopg_pool import ConnectionPool

from connectors.binance_klines import BinanceKlineChannel
from connectors.clock import Clock, SimulatorClock, SystemClock
from connectors.delivery import DeliveryWatch
from connectors.kafka import EventProducer
from connectors.polymarket.gamma import WindowDiscovery, venue_clock
from connectors.polymarket.gamma_parse import VenuePrices
from connectors.polymarket.market_ws import MarketChannel
from connectors.polymarket.user_ws import ApiCreds, UserChannel
from connectors.rtds import RtdsChannel
from connectors.supervisor import Supervisor, every
from connectors.window_follow import WindowFollowers
from connectors.ws_runner import Channel, RunnerConfig, WsRunner
from core.backoff import Backoff
from core.delivery import delivery_alert
from core.enums import WindowPhase
from core.feed_monitor import CompletenessRule, completeness_due
from core.models import Alert, Candle, OracleTick, WindowEvent
from core.runtime_alerts import task_crash_alert, write_alert
from core.window_integrity import (
    CandleHistory,
    OracleHistory,
    StrikeWatch,
    check_strike,
    discrepancy_alert,
    our_strike,
)
from polywindow.settings import FeedSettings
from sinks.postgres.ops import OpsWriter
from sinks.postgres.write_queue import WriteFailure, WriteQueue

log = structlog.get_logger(__name__)

CONNECTORS = ("gamma", "market", "user", "rtds", "klines")
DELIVERY_CHECK_S = 1.0  # how late (wall seconds) a Kafka delivery failure may be reported
WRITE_QUEUE_CAPACITY = 10_000  # database writes held while PostgreSQL is away, then dropped (counted)
PROCESS_FEED = "feeds.process"  # the feed_stats row of the process's own counters


def build_clock(settings: FeedSettings) -> Clock:
    """The process's one clock: the system's, or the simulator's scenario time (tests, campaigns)."""
    if settings.clock == "simulator":
        return SimulatorClock(settings.clock_url or settings.clob_url).start()
    return SystemClock()


class _QueuedAlerts:
    """An AlertStore whose rows go through the process's ordered writer."""

    def __init__(self, ops: OpsWriter, writes: WriteQueue) -> None:
        self._ops, self._writes = ops, writes

    def record_alert(self, alert: Alert) -> None:
        self._writes.submit("record_alert", partial(self._ops.record_alert, alert), essential=True)


class Feeds:
    """The running connectors and their periodic chores (clock offsets, stats, connection coverage).

    Window integrity (our outcome against the venue's) and the oracle's completeness per window are
    the trading flow's (`core.window_checks`): judged there on the topics, whoever produced them, so
    a restarted or partial (`--only`) feeds process cannot misjudge a window."""

    def __init__(
        self,
        settings: FeedSettings,
        kafka_bootstrap: str,
        database_url: str,
        only: set[str],
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self.only = only
        self.clock = clock or build_clock(settings)
        self.now = self.clock.now
        self.producer = EventProducer(kafka_bootstrap, settings.kafka_client())
        # A short wait for a connection, so a database outage turns into retries held in order by
        # the writer instead of a writer stuck for the pool's default 30 s.
        self.pool = ConnectionPool(database_url, min_size=1, max_size=4, open=True, timeout=5.0)
        self.ops = OpsWriter(self.pool)
        self.writes = WriteQueue(WRITE_QUEUE_CAPACITY, on_failure=self._write_failed).start()
        self.supervisor = Supervisor(self.clock, Backoff(base_s=1.0, cap_s=30.0), self._crashed)
        self.deliveries = DeliveryWatch(self.producer, _QueuedAlerts(self.ops, self.writes), self.now)
        self.runners: dict[str, WsRunner] = {}
        self.windows: dict[str, WindowEvent] = {}  # for connection coverage; dropped when reported
        self.history = OracleHistory()
        self.candles = CandleHistory()
        self.strikes = StrikeWatch()  # windows waiting for their start print; forgotten at resolution
        self.market: MarketChannel | None = None

    def _runner(self, channel: Channel, ping: bool, silence: bool) -> WsRunner:
        """`silence`: a quiet feed is abnormal (market, RTDS): silence opens a gap, and only data
        frames (not PONGs) keep the socket from being judged stale."""
        s = self.settings
        config = RunnerConfig(
            ping_interval_s=s.ping_interval_s if ping else None,
            stale_after_s=s.stale_after_s,
            silence_gap=timedelta(seconds=s.gap_threshold_s) if silence else None,
            data_liveness=silence,
        )
        return WsRunner(channel, self.producer, self.ops, config, self.clock, random.random, self.writes)

    def _alert(self, alert: Alert) -> None:
        """An alert on ops.alerts at once, and in the alerts table behind the writes before it."""
        self.producer.produce("ops.alerts", alert)
        self.writes.submit("record_alert", partial(self.ops.record_alert, alert), essential=True)

    def _crashed(self, task: str, error: str, crashes: int) -> None:
        self._alert(task_crash_alert(task, error, crashes, self.now()))

    def _write_failed(self, failure: WriteFailure) -> None:
        alert = write_alert(
            failure.what, failure.error, transient=failure.transient, overflow=failure.overflow, at=self.now()
        )
        if failure.transient:  # the database is away: the row would only queue behind the outage
            self.producer.produce("ops.alerts", alert)
        else:
            self._alert(alert)

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
                self.writes.submit("upsert_window", partial(self.ops.upsert_window, self._with_strike(event)))
                if event.phase is WindowPhase.RESOLVED:
                    self.strikes.forget(event.window_id)
                else:
                    self.strikes.watch(event)

            def on_forget(event: WindowEvent) -> None:
                """Discovery dropped the window (its slug is no longer asked for): so does everyone."""
                followers.forget(event)
                self.strikes.forget(event.window_id)
                self.windows.pop(event.window_id, None)

            run = self.supervisor.supervise
            async with asyncio.TaskGroup() as tasks:
                if isinstance(self.clock, SimulatorClock):
                    tasks.create_task(run("sim-clock", self.clock.follow))
                if "gamma" in self.only:
                    discovery = WindowDiscovery(
                        gamma,
                        clob,
                        self.producer,
                        s.assets,
                        s.intervals_s,
                        self.now,
                        on_window,
                        s.gamma_poll_s,
                        on_forget=on_forget,
                        sleep=self.clock.sleep,
                    )
                    discovery.on_prices = self._on_venue_prices
                    tasks.create_task(run("gamma", discovery.run))
                for name, runner in self.runners.items():
                    tasks.create_task(run(name, runner.run))
                tasks.create_task(
                    run(
                        "clock",
                        lambda: every(self.clock, s.clock_interval_s, lambda: self._clock(clob, rtds)),
                    )
                )
                tasks.create_task(run("stats", lambda: every(self.clock, s.stats_interval_s, self._stats)))
                tasks.create_task(  # our own producer's health: paced on the wall, whatever the clock
                    run("delivery", lambda: every(SystemClock(), DELIVERY_CHECK_S, self._deliveries))
                )

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
                self.writes.submit("upsert_window", partial(self.ops.upsert_window, row))

    def _on_venue_prices(self, window: WindowEvent, prices: VenuePrices) -> None:
        """The venue's priceToBeat/finalPrice stored; a priceToBeat unlike our strike is a discrepancy."""
        at = self.now()
        self.writes.submit(
            "record_venue_prices",
            partial(self.ops.record_venue_prices, window, prices.price_to_beat, prices.final_price, at),
        )
        ours = our_strike(window, self.history, self.candles)
        found = None if prices.price_to_beat is None else check_strike(ours, prices.price_to_beat)
        if found is not None:
            self.writes.submit(
                "record_discrepancy",
                partial(
                    self.ops.record_discrepancy,
                    window.window_id,
                    found.kind,
                    found.ours,
                    found.venue,
                    found.detail,
                    at,
                ),
            )
            self._alert(discrepancy_alert(window.window_id, found, at))

    async def _clock(self, clob: httpx.AsyncClient, rtds: RtdsChannel) -> None:
        try:
            samples = [await venue_clock(clob, self.now)]
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("feeds.clock_failed", error=str(exc)[:200])
            samples = []
        while rtds.clock_samples:
            samples.append(rtds.clock_samples.popleft())
        for sample in samples:
            self.writes.submit("record_clock", partial(self.ops.record_clock, sample))

    async def _deliveries(self) -> None:
        self.deliveries.check()  # the alert on ops.alerts at once, its row queued behind the other writes

    def process_stats(self) -> dict[str, int]:
        """The process's own counters: task crashes, writes and events dropped by a full queue, Kafka
        deliveries acknowledged and failed (a full queue's drops are failures too)."""
        return {
            "crashes": sum(self.supervisor.crashes.values()),
            "write_overflow": self.writes.counts["overflow"],
            "produce_overflow": self.producer.queue_full,
            "delivered": self.producer.delivered,
            "delivery_failed": self.producer.delivery_errors,
        }

    async def _stats(self) -> None:
        self.writes.submit("flush_pending", self.ops.flush_pending)  # gap rows an outage held back
        at = self.now()
        self.strikes.expire(at)
        for runner in self.runners.values():
            age = runner.monitor.age(at) / timedelta(milliseconds=1)
            self.writes.submit(
                "record_feed_stats", partial(self.ops.record_feed_stats, runner.feed, at, runner.stats(), age)
            )
        self.writes.submit(
            "record_feed_stats",
            partial(self.ops.record_feed_stats, PROCESS_FEED, at, self.process_stats(), None),
        )
        market = self.runners.get("market")
        if market is not None:
            followed = self.market.followed() if self.market is not None else []
            rates = market.rates.rates(at, followed)
            self.writes.submit("record_capture_rates", partial(self.ops.record_capture_rates, rates, at))
        # Only what the connection knows (connected, subscribed, no gap): the market channel and the
        # klines. Feeds judged by their prints (RTDS) are the trading flow's, per window.
        data_feeds = [
            r for r in self.runners.values() if r.channel.completeness is CompletenessRule.CONNECTED
        ]
        event_now = max((t for r in data_feeds if (t := r.completeness.newest) is not None), default=None)
        data_now = at if event_now is None else max(at, event_now)
        ends = [(w.window_id, w.end_ts) for w in self.windows.values()]
        for window_id in completeness_due(ends, at, event_now):
            window = self.windows.pop(window_id)  # a later phase of it re-adds it and updates the row
            for runner in data_feeds:
                pct = runner.completeness.percent(window.start_ts, window.end_ts, data_now)
                self.writes.submit(
                    "record_completeness",
                    partial(
                        self.ops.record_completeness,
                        runner.feed,
                        window.window_id,
                        window.start_ts,
                        window.end_ts,
                        pct,
                        at,
                    ),
                )

    def close(self) -> None:
        """Flush the producer (bounded), report every event it could not deliver (an alert row written
        directly: Kafka may be what is away), let the writer finish (bounded wait), close the pool."""
        try:
            alert = delivery_alert(self.producer.close(timeout_s=10.0), self.now())
            if alert is not None:
                log.error("feeds.undelivered_at_stop", message=alert.message)
                self.writes.submit("record_alert", partial(self.ops.record_alert, alert), essential=True)
            self.writes.submit(  # the final counts: every event delivered or failed, none in flight
                "record_feed_stats",
                partial(self.ops.record_feed_stats, PROCESS_FEED, self.now(), self.process_stats(), None),
                essential=True,
            )
        finally:
            self.writes.close(timeout_s=10.0)
            self.pool.close()
