"""Scale-out of the trading flow on a 3-broker Apache Kafka cluster, and tick-to-intent on the real
broker against the mock. Each engine runs on a private stack of its own (a temporary
POLYWINDOW_STACK_DIR, stopped and removed at the end); `make kafka` first. Brokers are in network
namespaces when run as root.

Throughput: for each layout (1, 2, 4 workers in one process; 2 processes x 1 and x 2 workers),
`polywindow flow` is started and warmed up (it has decided a window of its own), then BOOKS book
updates for windows far from their T-60 s are produced as fast as the producer goes, followed by one
update for each of six probe windows past their T-60 s whose tokens fall on each of md.book's six
partitions; the flow has taken everything when each probe's signal is out: book events per second =
BOOKS / (last probe signal - first update sent). Tick-to-intent: bench/tick_to_intent.py on each
engine (`--latency-only` skips the throughput part). Last line: one JSON object.

Measured (2 cores, load average 12 to 33 from other work on the machine): 1,167 / 3,905 / 2,025 book
events/s with 1 / 2 / 4 workers, 510 and 519 with 2 processes x 1 and x 2; tick-to-intent p50/p99
9 / 148 ms on the mock, 693 / 2,343 ms on the 3-broker cluster (200 updates/s). README "A real Kafka
engine" says why this is far from linear.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from confluent_kafka import Consumer, Producer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from connectors.kafka import consumer_config, producer_config
from core.models import Signal
from core.serde import decode, encode
from infra import netns, stack
from polywindow.flow_wiring import local_addresses
from polywindow.settings import StackSettings, load
from tests.trading_builders import book, window

BOOKS = 30_000
BACKGROUND_WINDOWS = 24
PARTITIONS = 6
ROOT = Path(__file__).resolve().parents[1]
POLYWINDOW = str(Path(sys.executable).parent / "polywindow")
LAYOUTS = (("1w", 1, 1), ("2w", 1, 2), ("4w", 1, 4), ("2p1w", 2, 1), ("2p2w", 2, 2))


def _env(engine: str, base: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "POLYWINDOW_STACK_DIR": str(base / engine / "stack"),
        "POLYWINDOW_ARCHIVE_DIR": str(base / engine / "archive"),
        "POLYWINDOW_KAFKA": engine,
        "POLYWINDOW_KAFKA_BROKERS": "3" if engine == "apache" else "1",
        "POLYWINDOW_KAFKA_NETNS": "1" if engine == "apache" and netns.available() else "0",
        "POLYWINDOW_STARTUP_TIMEOUT_S": "120",
    }
    for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        env.pop(name, None)
    return env


def _endpoints(env: dict[str, str]) -> stack.Endpoints:
    os.environ.update({k: env[k] for k in ("POLYWINDOW_STACK_DIR", "POLYWINDOW_ARCHIVE_DIR")})
    settings = load(StackSettings)
    return stack.endpoints(settings.stack_dir, None, None)


def _tick_to_intent(env: dict[str, str], eps: stack.Endpoints) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "tick_to_intent.py")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


class Signals:
    """trade.signals read as they come: receipt time per window id."""

    def __init__(self, eps: stack.Endpoints) -> None:
        config = consumer_config(eps.kafka_bootstrap, f"scale-{uuid.uuid4().hex[:8]}", embedded=False)
        self.consumer = Consumer(config | {"auto.offset.reset": "latest"})
        self.consumer.subscribe(["trade.signals"])
        while not self.consumer.assignment():
            self.consumer.poll(0.1)
        self.seen: dict[str, float] = {}

    def wait(self, windows: set[str], timeout_s: float) -> float | None:
        deadline = time.monotonic() + timeout_s
        while not windows <= self.seen.keys():
            if time.monotonic() > deadline:
                return None
            msg = self.consumer.poll(0.1)
            if msg is None or msg.error() or msg.value() is None:
                continue
            event = decode("trade.signals", msg.value() or b"")
            if isinstance(event, Signal):
                self.seen.setdefault(event.window_id, time.monotonic())
        return max(self.seen[w] for w in windows)


def _window(producer: Producer, run: str, k: int, seconds_left: int) -> tuple[str, str, str]:
    start = datetime.now(UTC) - timedelta(seconds=300 - seconds_left)
    wid = f"btc-updown-5m-scale{run}x{k}"
    event = window(start=start, window_id=wid, up=f"7{run}{k:04d}1", down=f"7{run}{k:04d}2")
    producer.produce("md.windows", key=wid.encode(), value=encode(event))
    return wid, event.up_token_id, event.down_token_id


def _one_book(producer: Producer, up: str, down: str) -> None:
    at = datetime.now(UTC)
    producer.produce("md.book", key=down.encode(), value=encode(book(down, at, "0.38", "0.40")))
    producer.produce("md.book", key=up.encode(), value=encode(book(up, at, "0.60", "0.62")))


def _throughput(eps: stack.Endpoints, env: dict[str, str], procs: int, workers: int) -> float | None:
    """Book events per second through `polywindow flow` with this layout; None if it never caught up."""
    cluster = ",".join(local_addresses(procs)) if procs > 1 else ""
    flows = []
    for index in range(procs):
        args = ["flow", "-w", str(workers)]
        if cluster:
            args += ["--addresses", cluster, "--process-id", str(index)]
        flows.append(
            subprocess.Popen(
                [POLYWINDOW, *args], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
    signals = Signals(eps)
    producer = Producer(
        producer_config(eps.kafka_bootstrap) | {"linger.ms": 5, "queue.buffering.max.messages": 200_000}
    )
    run = str(uuid.uuid4().int % 10**6)
    try:
        for attempt in range(20):  # warm-up: the flow has its controls and answers
            wid, up, down = _window(producer, f"{run}9{attempt}", 0, 58)
            producer.flush(10)
            for _ in range(15):
                _one_book(producer, up, down)
                producer.flush(10)
                if signals.wait({wid}, 1.0) is not None:
                    break
            if wid in signals.seen:
                break
        else:
            return None
        background = [_window(producer, run, k, 150) for k in range(BACKGROUND_WINDOWS)]
        probes: dict[int, tuple[str, str, str]] = {}
        k = 1000
        while len(probes) < PARTITIONS:
            wid, up, down = _window(producer, run, k, 58)
            # librdkafka's default partitioner: CRC-32 of the key, modulo the partitions
            probes.setdefault(zlib.crc32(up.encode()) % PARTITIONS, (wid, up, down))
            k += 1
        producer.flush(10)
        start = time.monotonic()
        for n in range(BOOKS):
            _, up, _ = background[n % BACKGROUND_WINDOWS]
            producer.produce(
                "md.book", key=up.encode(), value=encode(book(up, datetime.now(UTC), "0.60", "0.62"))
            )
            if n % 1000 == 0:
                producer.poll(0)
        for _wid, up, down in probes.values():
            _one_book(producer, up, down)
        producer.flush(60)
        done = signals.wait({p[0] for p in probes.values()}, 300)
        return None if done is None else BOOKS / (done - start)
    finally:
        signals.consumer.close()
        for proc in flows:
            proc.send_signal(signal.SIGTERM)
        for proc in flows:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main() -> None:
    from tick_to_intent import _bench_database, _drop

    base = Path(tempfile.mkdtemp(prefix="pw-scale-"))
    figures: dict[str, object] = {"cores": os.cpu_count(), "load_1m_before": round(os.getloadavg()[0], 2)}
    try:
        for engine in ("apache", "mock"):
            env = _env(engine, base)
            subprocess.run(
                [POLYWINDOW, "stack", "up"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL
            )
            try:
                eps = _endpoints(env)
                if engine == "apache" and "--latency-only" not in sys.argv:
                    name, url = _bench_database(eps)
                    flow_env = {**env, "DATABASE_URL": url, "POLYWINDOW_FLOW_MARKET_DATA_START": "end"}
                    try:
                        for label, procs, workers in LAYOUTS:
                            rate = _throughput(eps, flow_env, procs, workers)
                            figures[f"books_per_s_{label}"] = None if rate is None else round(rate, 1)
                            print(json.dumps(figures), flush=True)
                    finally:
                        _drop(eps, name)
                found = _tick_to_intent(env, eps)
                for key in ("r200_p99_ms", "r2000_p99_ms", "r200_p50_ms", "error"):
                    if key in found:
                        figures[f"{engine}_tick_to_intent_{key}"] = found[key]
                print(json.dumps(figures), flush=True)
            finally:
                subprocess.run(
                    [POLYWINDOW, "stack", "down"], env=env, cwd=ROOT, check=False, stdout=subprocess.DEVNULL
                )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    one = figures.get("books_per_s_1w")
    for label in ("2w", "4w", "2p2w"):
        got = figures.get(f"books_per_s_{label}")
        if isinstance(one, float) and isinstance(got, float):
            figures[f"speedup_{label}"] = round(got / one, 2)
    figures["load_1m_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
