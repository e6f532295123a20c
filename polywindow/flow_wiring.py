"""Construction of `polywindow flow` and `polywindow replay`: settings into the flows' inputs,
sinks and Bytewax run plan (`flows.running`). No logic.

Several processes on this host (`-p N`): this process is process 0; it picks N loopback addresses
and starts the N-1 others as the same command with `POLYWINDOW_FLOW_ADDRESSES` and
`POLYWINDOW_FLOW_PROCESS_ID` set (on several hosts, the operator starts each with those two set).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from bytewax.dataflow import Dataflow

from connectors.clock import Clock, SimulatorClock, SystemClock
from core.backtest import Gap, ReplayControls
from flows.replay import REPLAY_TOPICS, ReplayInput, ReplayResult, read_outputs, replay
from flows.running import RunPlan, run_dataflow
from flows.trading import TradingFlowSettings
from flows.trading_io import KafkaInput, build_kafka_flow
from infra.stack import Endpoints
from polywindow.settings import FlowSettings, TraderSettings
from sinks.archive_reader import read_archive
from sinks.postgres.trading_reads import read_feed_gaps


def trading_settings(settings: FlowSettings, route_buckets: int = 1) -> TradingFlowSettings:
    return TradingFlowSettings(
        strategies=settings.strategies,
        min_time_left_s=settings.min_time_left_s,
        max_daily_drawdown_usd=settings.max_daily_drawdown_usd,
        max_staleness_ms=settings.max_staleness_ms,
        route_buckets=route_buckets,
    )


def route_buckets(plan: RunPlan) -> int:
    """One router bucket per worker of the cluster; a recovery store keeps the count it began with
    (in `<recovery dir>.route_buckets`), so a resume with another worker count routes as before."""
    count = plan.workers * max(len(plan.addresses), 1)
    if plan.recovery_dir is None:
        return count
    kept = plan.recovery_dir.with_name(plan.recovery_dir.name + ".route_buckets")
    if kept.exists():
        return int(kept.read_text())
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(str(count))
    return count


def build_clock(settings: TraderSettings) -> Clock:
    """A trading process's clock: the system's, or the simulator's scenario time (raises
    ClockUnavailable)."""
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


ADDRESSES_ENV = "POLYWINDOW_FLOW_ADDRESSES"
PROCESS_ID_ENV = "POLYWINDOW_FLOW_PROCESS_ID"


def run_flow(flow: Dataflow, workers: int, plan: RunPlan | None = None) -> None:
    run_dataflow(flow, plan or RunPlan(workers=workers))


def local_addresses(count: int) -> tuple[str, ...]:
    """`count` free loopback `host:port`s (the kernel's choice, released just before use)."""
    found: list[str] = []
    holders: list[socket.socket] = []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        holders.append(sock)
        found.append(f"127.0.0.1:{sock.getsockname()[1]}")
    for sock in holders:
        sock.close()
    return tuple(found)


def start_peers(
    addresses: tuple[str, ...], extra_env: dict[str, str] | None = None
) -> list[subprocess.Popen[bytes]]:
    """Processes 1..N-1 of a cluster on this host: this very command, told its place."""
    argv = [sys.executable, "-m", "polywindow.cli", *sys.argv[1:]]
    peers = []
    for index in range(1, len(addresses)):
        env = {
            **os.environ,
            **(extra_env or {}),
            ADDRESSES_ENV: ",".join(addresses),
            PROCESS_ID_ENV: str(index),
        }
        peers.append(subprocess.Popen(argv, env=env))
    return peers


def stop_peers(peers: list[subprocess.Popen[bytes]], timeout_s: float = 30) -> list[int]:
    """Wait for the peers (SIGTERM first if they still run after `timeout_s`); their exit codes."""
    codes = []
    for peer in peers:
        try:
            codes.append(peer.wait(timeout_s))
        except subprocess.TimeoutExpired:
            peer.terminate()
            codes.append(peer.wait(timeout_s))
    return codes


def run_plan(
    workers: int,
    addresses: tuple[str, ...],
    process_id: int,
    recovery_dir: Path | None = None,
    epoch_s: float = 10,
) -> RunPlan:
    return RunPlan(
        workers=workers,
        addresses=addresses,
        process_id=process_id,
        recovery_dir=recovery_dir,
        epoch=timedelta(seconds=epoch_s),
    )


def run_live_flow(
    settings: FlowSettings,
    endpoints: Endpoints,
    plan: RunPlan,
    clock: Clock,
    peers: list[subprocess.Popen[bytes]] | None = None,
) -> None:
    """Until SIGINT/SIGTERM: the inputs stop (the peers' too: they get SIGTERM), the flow drains
    and the sinks flush."""
    stop = threading.Event()

    def on_signal(*_: object) -> None:
        stop.set()
        for peer in peers or ():
            peer.terminate()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    cfg = kafka_input(settings, endpoints, clock)
    flow = build_kafka_flow(cfg, trading_settings(settings, route_buckets(plan)), stop.is_set, clock.now)
    run_dataflow(flow, plan)


def _mark_done(out_dir: Path, process_id: int, result: ReplayResult) -> None:
    """What this process's source read (the archive partition is on one worker of the cluster)."""
    done = {
        "events": result.events,
        "resumed_at": result.resumed_at,
        "excluded": sorted(result.excluded_windows),
        "kept": sorted(result.gap_windows_kept),
    }
    tmp = out_dir / f".done.{process_id}"
    tmp.write_text(json.dumps(done))
    tmp.replace(out_dir / f"done.{process_id}")


def gather(out_dir: Path, processes: int, timeout_s: float, into: ReplayResult) -> None:
    """Every process's outputs and source counts into `into`, once all are done (else raises)."""
    deadline = time.monotonic() + timeout_s
    marks = [out_dir / f"done.{i}" for i in range(processes)]
    while not all(mark.exists() for mark in marks):
        if time.monotonic() > deadline:
            missing = [m.name for m in marks if not m.exists()]
            raise RuntimeError(f"replay processes did not finish within {timeout_s} s: {missing}")
        time.sleep(0.05)
    for mark in marks:
        done = json.loads(mark.read_text())
        into.events = max(into.events, done["events"])
        into.resumed_at = max(into.resumed_at, done["resumed_at"])
        into.excluded_windows |= set(done["excluded"])
        into.gap_windows_kept |= set(done["kept"])
    read_outputs(out_dir, into)
    into.sort()


def replay_archive(
    settings: FlowSettings,
    database_url: str | None,
    start: datetime,
    end: datetime,
    *,
    strategies: dict[str, dict[str, Any]],
    instruments: frozenset[str],
    keep_gaps: bool,
    plan: RunPlan,
    out_dir: Path | None = None,
) -> ReplayResult:
    """The archived [start, end) through the trading flow in BACKTEST, feed gaps from PostgreSQL.
    With `out_dir` (needed by a recovery directory or several processes) the outputs are written
    there once each; process 0 reads every process's part once all have marked themselves done."""
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
    flow_settings = trading_settings(settings, route_buckets(plan)).model_copy(
        update={"strategies": strategies}
    )
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / f"done.{plan.process_id}").unlink(missing_ok=True)
    result = replay(inp, flow_settings, plan=plan, out_dir=out_dir)
    if out_dir is not None:
        _mark_done(out_dir, plan.process_id, result)
        if plan.process_id == 0:
            gather(out_dir, max(len(plan.addresses), 1), 60, result)
    return result
