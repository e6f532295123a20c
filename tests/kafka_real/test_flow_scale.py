"""The trading flow scaled out on the real engine: the same market data (a set of windows at their
T-60 s with fixed books, stamped now: the live flow trades on the wall clock's controls) gives the
same signals and intents with 1 worker, 2 workers, and 2 processes x 2 workers, and still does after
one of the two processes is killed and started again. Window and token ids carry a per-run tag (an id
already on trade.intents is never sent again); decisions are compared with the tag taken out.

Risk refuses market data older than the controls, or controls older than the data, by more than
POLYWINDOW_FLOW_MAX_STALENESS_MS (1 s by default): on a loaded machine a flow may process a book or
read its controls late, which is the wall clock's doing, not the scale-out's. The flows here run with
60 s, so every window's decision is compared: each must have one signal and one intent, the same in
every run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from confluent_kafka import Consumer

from connectors.kafka import EventProducer, consumer_config, decode_message
from core.models import IntentRejected, OrderIntent, Signal
from infra import stack
from polywindow.flow_wiring import local_addresses
from sinks.postgres.migrate import migrate
from tests.kafka_real.conftest import RealCluster
from tests.trading_builders import book, window

pytestmark = [pytest.mark.stack, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
POLYWINDOW = str(REPO / ".venv" / "bin" / "polywindow")
WINDOWS = 8  # over md.windows' 3 and md.book's 6 partitions: every worker gets some
Decision = OrderIntent | IntentRejected
LOG = Path(os.environ.get("POLYWINDOW_STACK_DIR", ".")).parent / "flow-scale.log"


def _books(k: int) -> tuple[str, str, str, str]:
    """Window k's fixed book: up bid/ask, down bid/ask (the favourite's price differs per window)."""
    up_ask = 60 + k
    return f"0.{up_ask - 2}", f"0.{up_ask}", f"0.{98 - up_ask}", f"0.{100 - up_ask}"


@pytest.fixture
def trading_db(endpoints: stack.Endpoints) -> Iterator[str]:
    name = f"pw_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(endpoints.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, query = endpoints.database_url.partition("?")
    url = f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
    migrate(url)
    with psycopg.connect(url, autocommit=True) as conn:
        for control, value in (
            ("allowed_instruments", ["btc-5m"]),
            ("allowed_strategies", ["canary"]),
            ("kill_switch", "RUN"),
        ):
            conn.execute(
                "UPDATE runtime_controls SET value = %s::jsonb, updated_at = now(), updated_by = 'test'"
                " WHERE name = %s",
                (json.dumps(value), control),
            )
    try:
        yield url
    finally:
        with psycopg.connect(endpoints.database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Desk:
    """A producer of the test's market data and a reader of the flow's decisions."""

    def __init__(self, bootstrap: str) -> None:
        self.producer = EventProducer(bootstrap)
        self.consumer = Consumer(consumer_config(bootstrap, f"scale-{uuid.uuid4().hex[:8]}", embedded=False))
        self.consumer.subscribe(["trade.signals", "trade.intents", "trade.rejections"])
        self.decisions: dict[str, Decision] = {}
        self.signals: dict[str, list[Signal]] = {}

    def run(
        self, tag: str, within_s: float, count: int = WINDOWS
    ) -> dict[int, tuple[tuple[str, ...], tuple[str, ...]]]:
        """Open the windows `tag`-0..N past their T-60 s, feed their books until each is decided;
        each window's signal and decision with the tag taken out."""
        start = datetime.now(UTC) - timedelta(seconds=242)
        ids = {}
        for k in range(count):
            wid = f"btc-updown-5m-{tag}x{k}"
            event = window(start=start, window_id=wid, up=f"9{tag}{k}1", down=f"9{tag}{k}2")
            self.producer.produce("md.windows", event)
            ids[k] = event
        self.producer.flush()
        deadline = time.monotonic() + within_s
        while not all(e.window_id in self.decisions for e in ids.values()):
            if time.monotonic() > deadline:
                decided = sum(e.window_id in self.decisions for e in ids.values())
                raise AssertionError(f"{decided} of {count} windows decided within {within_s} s")
            for k, event in ids.items():
                if event.window_id not in self.decisions:
                    up_bid, up_ask, down_bid, down_ask = _books(k)
                    at = datetime.now(UTC)  # stamped as sent
                    self.producer.produce("md.book", book(event.down_token_id, at, down_bid, down_ask))
                    self.producer.produce("md.book", book(event.up_token_id, at, up_bid, up_ask))
                    self.producer.flush()
            self._read(0.5)
        self._read(1.0)  # a second signal or decision for a window would be a scale-out bug
        out: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {}
        for k, e in ids.items():
            signals = self.signals.get(e.window_id, [])
            assert len(signals) == 1, f"window {k}: {len(signals)} signals"
            sig = signals[0]
            signal: tuple[str, ...] = (
                sig.strategy,
                sig.token_id.replace(tag, "T"),
                sig.side.value,
                str(sig.limit_price),
            )
            out[k] = (signal, _normalized(self.decisions[e.window_id], tag))
        return out

    def _read(self, wait_s: float) -> None:
        end = time.monotonic() + wait_s
        while time.monotonic() < end:
            msg = self.consumer.poll(0.05)
            if msg is None or msg.error() is not None:
                continue
            event = decode_message(msg)
            if isinstance(event, Signal):
                self.signals.setdefault(event.window_id, []).append(event)
            elif isinstance(event, OrderIntent | IntentRejected):
                assert event.window_id not in self.decisions, f"{event.window_id} decided twice"
                self.decisions[event.window_id] = event

    def close(self) -> None:
        self.consumer.close()


def _normalized(decision: Decision, tag: str) -> tuple[str, ...]:
    if isinstance(decision, IntentRejected):
        return ("rejected", decision.rule)
    return (
        "intent",
        decision.strategy,
        decision.token_id.replace(tag, "T"),
        decision.side.value,
        decision.order_type.value,
        str(decision.limit_price),
        str(decision.size),
    )


def _flow(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    with open(LOG, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [POLYWINDOW, "flow", *args],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )


def _stop(*flows: subprocess.Popen[bytes]) -> None:
    for proc in flows:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in flows:
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)


def _decide(desk: Desk) -> dict[int, tuple[tuple[str, ...], tuple[str, ...]]]:
    """One run of the replay, once the flow has traded a window of its own: it has read its controls
    and caught up with md.windows (a flow still starting refuses with `no_controls`)."""
    deadline = time.monotonic() + 180
    while True:
        assert time.monotonic() < deadline, "the flow traded nothing within 180 s"
        try:
            (_, decision), *_ = desk.run(_tag(), within_s=60, count=1).values()
        except AssertionError:
            continue
        if decision[0] == "intent":
            break
    return desk.run(_tag(), within_s=120)


def _tag() -> str:
    return str(uuid.uuid4().int % 10**8)


def test_one_worker_two_workers_and_two_processes_give_the_same_intents_even_after_a_kill(
    real_cluster: RealCluster, trading_db: str
) -> None:
    env = {
        "DATABASE_URL": trading_db,
        "KAFKA_BOOTSTRAP_SERVERS": real_cluster.bootstrap,
        "POLYWINDOW_FLOW_CONTROLS_POLL_MS": "200",
        "POLYWINDOW_FLOW_MARKET_DATA_START": "end",
        "POLYWINDOW_FLOW_MAX_STALENESS_MS": "60000",  # the scale-out is judged here, not the machine's lag
    }
    desk = Desk(real_cluster.bootstrap)
    results: dict[str, dict[int, tuple[tuple[str, ...], tuple[str, ...]]]] = {}
    try:
        for name, args in (("1 worker", ("-w", "1")), ("2 workers", ("-w", "2"))):
            flow = _flow(env, *args)
            try:
                results[name] = _decide(desk)
            finally:
                _stop(flow)
        addresses = ",".join(local_addresses(2))
        cluster = ("-w", "2", "--addresses", addresses)
        first = _flow(env, *cluster, "--process-id", "0")
        second = _flow(env, *cluster, "--process-id", "1")
        try:
            results["2 processes x 2 workers"] = _decide(desk)
            second.send_signal(signal.SIGKILL)
            second.wait(30)
            second = _flow(env, *cluster, "--process-id", "1")
            deadline = time.monotonic() + 20
            while first.poll() is None and time.monotonic() < deadline:  # its peer's death stops it
                time.sleep(0.2)
            if first.poll() is not None:
                first = _flow(env, *cluster, "--process-id", "0")
            results["after a kill and a restart"] = _decide(desk)
        finally:
            _stop(first, second)
    finally:
        desk.close()
    one_worker = results["1 worker"]
    assert len(one_worker) == WINDOWS, one_worker
    assert all(decision[0] == "intent" for _, decision in one_worker.values()), one_worker
    assert all(got == one_worker for got in results.values()), results
