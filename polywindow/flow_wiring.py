"""Construction of `polywindow flow` and `polywindow replay`: settings into the flows' inputs,
sinks and Bytewax run (one worker: `run_main`; more: `cluster_main` in this process). No logic."""

from __future__ import annotations

import signal
import threading
from datetime import datetime, timedelta
from typing import Any

import psycopg
from bytewax.dataflow import Dataflow
from bytewax.testing import cluster_main, run_main

from connectors.clock import Clock, SimulatorClock, SystemClock
from core.backtest import Gap, ReplayControls
from flows.replay import REPLAY_TOPICS, ReplayInput, ReplayResult, replay
from flows.trading import TradingFlowSettings
from flows.trading_io import KafkaInput, build_kafka_flow
from infra.stack import Endpoints
from polywindow.settings import FlowSettings
from sinks.archive_reader import read_archive
from sinks.postgres.trading_reads import read_feed_gaps


def trading_settings(settings: FlowSettings) -> TradingFlowSettings:
    return TradingFlowSettings(
        strategies=settings.strategies,
        min_time_left_s=settings.min_time_left_s,
        max_daily_drawdown_usd=settings.max_daily_drawdown_usd,
    )


def build_clock(settings: FlowSettings) -> Clock:
    """The flow's clock: the system's, or the simulator's scenario time (raises ClockUnavailable)."""
    if settings.clock == "simulator":
        return SimulatorClock(settings.clock_url).start()
    return SystemClock()


def kafka_input(settings: FlowSettings, endpoints: Endpoints, clock: Clock | None = None) -> KafkaInput:
    poll_s = settings.controls_poll_ms / 1000
    wall_s = clock.wall_s(poll_s) if clock is not None else poll_s
    return KafkaInput(
        bootstrap=endpoints.kafka_bootstrap,
        embedded=endpoints.kafka_embedded,
        database_url=endpoints.database_url,
        client_config=settings.kafka_client(),
        market_data_start=settings.market_data_start,
        batch_size=settings.batch_size,
        controls_every=timedelta(seconds=wall_s),
    )


def run_flow(flow: Dataflow, workers: int) -> None:
    if workers <= 1:
        run_main(flow)  # type: ignore[no-untyped-call]
    else:
        cluster_main(flow, [], 0, worker_count_per_proc=workers)  # type: ignore[no-untyped-call]


def run_live_flow(settings: FlowSettings, endpoints: Endpoints, workers: int, clock: Clock) -> None:
    """Until SIGINT/SIGTERM: the inputs stop, the flow drains and the sinks flush."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    cfg = kafka_input(settings, endpoints, clock)
    flow = build_kafka_flow(cfg, trading_settings(settings), stop.is_set, clock.now)
    run_flow(flow, workers)


def replay_archive(
    settings: FlowSettings,
    database_url: str | None,
    start: datetime,
    end: datetime,
    *,
    strategies: dict[str, dict[str, Any]],
    instruments: frozenset[str],
    keep_gaps: bool,
    workers: int,
) -> ReplayResult:
    """The archived [start, end) through the trading flow in BACKTEST, feed gaps from PostgreSQL."""
    gaps: tuple[Gap, ...] = ()
    if database_url is not None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            gaps = tuple(read_feed_gaps(conn, start, end))
    controls = ReplayControls(instruments=instruments, strategies=frozenset(strategies))
    inp = ReplayInput(
        events=lambda: read_archive(settings.archive_dir, REPLAY_TOPICS, start, end),
        controls=controls,
        gaps=gaps,
        keep_gaps=keep_gaps,
    )
    flow_settings = trading_settings(settings).model_copy(update={"strategies": strategies})
    return replay(inp, flow_settings, workers)
