"""Tick -> intent latency through Kafka and Bytewax: an md.book produce to the trade.intents consume.

`polywindow flow` runs as its own process on the local stack (market data from the end, a bench
database whose runtime_controls say RUN for btc-5m and the canary). Background book updates go to a
few windows that are not yet at T-60 (no decision comes out of them); every 50 ms a probe window
is announced and then gets one book update at its T-60, which the canary turns into an intent: the
probe's produce -> the intent's consume is one sample. The background, produced by a process of its
own, fills the rest of the rate (200 and 2,000 book updates/s). The one-hop Kafka floor is measured in the same run
(bench/kafka_roundtrip.py) and printed beside PERFORMANCE.md's two-hop floor (3.6 ms p99).
Last line: one JSON object.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from confluent_kafka import Consumer, Producer
from kafka_roundtrip import latency as one_hop_latency

from connectors.kafka import consumer_config, producer_config
from core.enums import WindowPhase
from core.models import IntentRejected, OrderIntent
from core.serde import decode, encode
from infra import stack
from polywindow.settings import StackSettings, load
from sinks.postgres.migrate import migrate

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the shared event builders live in tests/
from tests.trading_builders import book, window

PROBE_EVERY_S = 0.05
SECONDS_PER_RATE = 20
BACKGROUND_WINDOWS = 4
TWO_HOP_FLOOR_P99_MS = 3.6  # PERFORMANCE.md, KafkaSource -> stateful_map -> KafkaSink, 200 items/s


def _endpoints() -> stack.Endpoints:
    settings = load(StackSettings)
    url = settings.database_url.get_secret_value() if settings.database_url else None
    return stack.endpoints(settings.stack_dir, url, settings.kafka_bootstrap_servers)


def _bench_database(eps: stack.Endpoints) -> tuple[str, str]:
    name = f"pw_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(eps.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, query = eps.database_url.partition("?")
    url = f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
    migrate(url)
    with psycopg.connect(url, autocommit=True) as conn:
        for control, value in (
            ("allowed_instruments", ["btc-5m"]),
            ("allowed_strategies", ["canary"]),
            ("kill_switch", "RUN"),
        ):
            conn.execute(
                "UPDATE runtime_controls SET value = %s::jsonb, updated_at = now(), updated_by = 'bench'"
                " WHERE name = %s",
                (json.dumps(value), control),
            )
    return name, url


def _drop(eps: stack.Endpoints, name: str) -> None:
    with psycopg.connect(eps.database_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Intents:
    """trade.intents consumed in a thread; receipt time per window id."""

    def __init__(self, eps: stack.Endpoints) -> None:
        config = consumer_config(eps.kafka_bootstrap, f"bench-{uuid.uuid4()}", embedded=eps.kafka_embedded)
        self.consumer = Consumer(config | {"auto.offset.reset": "latest"})
        self.consumer.subscribe(["trade.intents", "trade.rejections"])
        while not self.consumer.assignment():
            self.consumer.poll(0.1)
        self.received: dict[str, int] = {}
        self.rejected: dict[str, str] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            msg = self.consumer.poll(0.05)
            if msg is None or msg.error() or msg.value() is None:
                continue
            at = time.perf_counter_ns()
            event = decode(msg.topic() or "", msg.value() or b"")
            if isinstance(event, OrderIntent):
                self.received.setdefault(event.window_id, at)
            elif isinstance(event, IntentRejected):
                self.rejected.setdefault(event.window_id, event.rule)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.consumer.close()


def _window_at(
    run: str, k: int, seconds_left: int, phase: WindowPhase = WindowPhase.OPEN
) -> tuple[bytes, bytes, str, str]:
    """A 5-minute window with `seconds_left` to go now: (key, value, up token, window id)."""
    start = datetime.now(UTC) - timedelta(seconds=300 - seconds_left)
    wid = f"btc-updown-5m-bench{run}{k}"
    at = datetime.now(UTC) if phase is WindowPhase.RESOLVED else None
    event = window(phase, start=start, window_id=wid, up=f"8{run}{k:07d}1", down=f"8{run}{k:07d}2", at=at)
    return wid.encode(), encode(event), event.up_token_id, wid


def _resolve(producer: Producer, run: str, k: int) -> None:
    """The window's state is dropped by the flow (the router forgets it)."""
    key, value, _, _ = _window_at(run, k, 0, WindowPhase.RESOLVED)
    producer.produce("md.windows", key=key, value=value)


def background(bootstrap: str, rate: float, seconds: float, run: str) -> None:
    """(Its own process, so the load does not share the measuring process's GIL.) Book updates at
    `rate` to windows at T-150 s, which decide nothing; prints how many were sent."""
    producer = Producer(producer_config(bootstrap))
    load: list[tuple[bytes, bytes]] = []
    for b in range(BACKGROUND_WINDOWS):
        key, value, up, _ = _window_at(run, 9_000_000 + b, 150)
        producer.produce("md.windows", key=key, value=value)
        load.append((up.encode(), encode(book(up, datetime.now(UTC), "0.60", "0.62"))))
    producer.flush(10)
    start, n = time.perf_counter(), 0
    while (now := time.perf_counter()) - start < seconds:
        delay = start + n / rate - now
        if delay > 0:
            time.sleep(min(delay, 0.001))
            continue
        key, value = load[n % len(load)]
        producer.produce("md.book", key=key, value=value)
        producer.poll(0)
        n += 1
    for b in range(BACKGROUND_WINDOWS):
        _resolve(producer, run, 9_000_000 + b)
    producer.flush(10)
    print(json.dumps({"sent": n, "per_s": round(n / seconds, 1)}))


def _probe(
    producer: Producer, run: str, k: int, announced: list[tuple[str, str]], sent: dict[str, int]
) -> None:
    """Announce probe window k; give the one announced ~200 ms ago its book at T-60 s."""
    key, value, up, wid = _window_at(run, k, 60)
    producer.produce("md.windows", key=key, value=value)
    announced.append((up, wid))
    if k > 40:  # the probe of 2 s ago has had its decision: drop its state
        _resolve(producer, run, k - 41)
    if len(announced) > 4:
        up_token, probe = announced.pop(0)
        payload = encode(book(up_token, datetime.now(UTC), "0.60", "0.62"))
        sent[probe] = time.perf_counter_ns()
        producer.produce("md.book", key=up_token.encode(), value=payload)
    producer.poll(0)


def measure(eps: stack.Endpoints, rate: int, run: str, intents: Intents) -> dict[str, object]:
    producer = Producer(producer_config(eps.kafka_bootstrap))
    sent: dict[str, int] = {}
    announced: list[tuple[str, str]] = []
    k, deadline = 0, time.monotonic() + 120
    while not intents.received.keys() & sent.keys():  # warm-up: the flow answers
        if time.monotonic() > deadline:
            raise SystemExit("no intent came out of the flow within 120 s")
        _probe(producer, run, k, announced, sent)
        k += 1
        time.sleep(PROBE_EVERY_S)
    sent = {}
    load = subprocess.Popen(
        [sys.executable, __file__, "--background", str(rate - 1 / PROBE_EVERY_S), str(SECONDS_PER_RATE), run],
        stdout=subprocess.PIPE,
        text=True,
    )
    start = time.perf_counter()
    next_probe = start
    while time.perf_counter() - start < SECONDS_PER_RATE:
        _probe(producer, run, k, announced, sent)
        k += 1
        next_probe += PROBE_EVERY_S
        time.sleep(max(next_probe - time.perf_counter(), 0))
    out, _ = load.communicate(timeout=60)
    producer.flush(10)
    deadline = time.monotonic() + 10
    while not sent.keys() <= intents.received.keys() and time.monotonic() < deadline:
        time.sleep(0.05)
    for j in range(max(k - 41, 0), k):
        _resolve(producer, run, j)
    producer.flush(10)
    samples = sorted((intents.received[w] - t) / 1e6 for w, t in sent.items() if w in intents.received)
    q = statistics.quantiles(samples, n=100)
    loaded = json.loads(out.strip().splitlines()[-1])
    refused = Counter(intents.rejected[w] for w in sent if w in intents.rejected)
    return {
        f"r{rate}_probes_rejected_by_rule": dict(refused),
        f"r{rate}_p50_ms": round(q[49], 3),
        f"r{rate}_p99_ms": round(q[98], 3),
        f"r{rate}_samples": len(samples),
        f"r{rate}_missing": len(sent) - len(samples),
        f"r{rate}_achieved_updates_per_s": round(loaded["per_s"] + len(samples) / SECONDS_PER_RATE, 1),
    }


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--background":
        background(_endpoints().kafka_bootstrap, float(sys.argv[2]), float(sys.argv[3]), sys.argv[4])
        return
    eps = _endpoints()
    floor = one_hop_latency(eps, 1000, 200.0)
    name, url = _bench_database(eps)
    env = {**os.environ, "DATABASE_URL": url, "POLYWINDOW_FLOW_MARKET_DATA_START": "end"}
    log = Path("/tmp") / f"polywindow-bench-flow-{uuid.uuid4().hex[:6]}.log"
    polywindow = str(Path(sys.executable).parent / "polywindow")
    with open(log, "w") as out:
        flow = subprocess.Popen([polywindow, "flow"], env=env, stdout=out, stderr=subprocess.STDOUT)
    intents = Intents(eps)
    figures: dict[str, object] = {}
    try:
        run = str(uuid.uuid4().int % 10**6)
        for rate in (200, 2000):
            figures |= measure(eps, rate, f"{run}{rate}", intents)
            print(json.dumps(figures))
    finally:
        intents.close()
        flow.send_signal(signal.SIGINT)
        try:
            flow.wait(20)
        except subprocess.TimeoutExpired:
            flow.kill()
            flow.wait()
        _drop(eps, name)
    figures |= {
        "one_hop_floor_p50_ms": floor["latency_p50_ms"],
        "one_hop_floor_p99_ms": floor["latency_p99_ms"],
        "two_hop_floor_p99_ms_performance_md": TWO_HOP_FLOOR_P99_MS,
        "flow_log": str(log),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
