"""Construction of `polywindow flow` and `polywindow replay`: settings into the flows' inputs,
sinks and Bytewax run (one worker: `run_main`; more: `cluster_main` in this process). No logic."""

from __future__ import annotations

import signal
import threading
from datetime import timedelta

from bytewax.dataflow import Dataflow
from bytewax.testing import cluster_main, run_main

from flows.trading import TradingFlowSettings
from flows.trading_io import KafkaInput, build_kafka_flow
from infra.stack import Endpoints
from polywindow.settings import FlowSettings


def trading_settings(settings: FlowSettings) -> TradingFlowSettings:
    return TradingFlowSettings(
        strategies=settings.strategies,
        min_time_left_s=settings.min_time_left_s,
        max_daily_drawdown_usd=settings.max_daily_drawdown_usd,
    )


def kafka_input(settings: FlowSettings, endpoints: Endpoints) -> KafkaInput:
    return KafkaInput(
        bootstrap=endpoints.kafka_bootstrap,
        embedded=endpoints.kafka_embedded,
        database_url=endpoints.database_url,
        client_config=dict(settings.kafka_client_config),
        market_data_start=settings.market_data_start,
        batch_size=settings.batch_size,
        controls_every=timedelta(milliseconds=settings.controls_poll_ms),
    )


def run_flow(flow: Dataflow, workers: int) -> None:
    if workers <= 1:
        run_main(flow)  # type: ignore[no-untyped-call]
    else:
        cluster_main(flow, [], 0, worker_count_per_proc=workers)  # type: ignore[no-untyped-call]


def run_live_flow(settings: FlowSettings, endpoints: Endpoints, workers: int) -> None:
    """Until SIGINT/SIGTERM: the inputs stop, the flow drains and the sinks flush."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    flow = build_kafka_flow(kafka_input(settings, endpoints), trading_settings(settings), stop.is_set)
    run_flow(flow, workers)
