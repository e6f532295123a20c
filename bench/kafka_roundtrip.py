"""Produce -> consume latency (p50/p99) and throughput over the local stack's Kafka.

Latency: 1 KB JSON events at a paced rate (default 200 msg/s), one hop, the consumer in its own
thread; throughput: a burst of pre-built events produced and consumed as fast as the client goes.
Last line: one JSON object with the figures. Runs on the bench's own topics (see TOPIC).
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import uuid

from confluent_kafka import Consumer, Producer

from connectors.kafka import consumer_config, producer_config
from infra import stack
from polywindow.settings import StackSettings, load

# Topics of the bench's own, never a declared one: bench payloads on ops.alerts or md.book were read
# (and quarantined) by the operator's sink and flow. The embedded broker creates them on first use
# (4 partitions); a real cluster needs them created, or auto-creation on.
TOPIC = "bench.latency"
BURST_TOPIC = "bench.burst"
WARMUP = 300  # the first ~1.5 s measure the consumer's offset lookup, not a hop


def _endpoints() -> stack.Endpoints:
    settings = load(StackSettings)
    url = settings.database_url.get_secret_value() if settings.database_url else None
    return stack.endpoints(settings.stack_dir, url, settings.kafka_bootstrap_servers)


def _payload(run: str, n: int, sent_ns: int) -> bytes:
    body = {
        "schema_version": 1,
        "kind": "alert",
        "alert_kind": "bench",
        "severity": "INFO",
        "run": run,
        "n": n,
        "sent_ns": sent_ns,
        "event_ts": "2026-06-08T08:15:00Z",
    }
    raw = json.dumps(body)
    return json.dumps({**body, "message": "x" * max(0, 1024 - len(raw) - 16)}).encode()


def _consumer(eps: stack.Endpoints, topic: str) -> Consumer:
    # A consumer does not create its topic, and a new stack has none of the bench's: one record
    # produced first creates it (the broker's auto-creation), else the group join below never ends.
    producer = Producer(producer_config(eps.kafka_bootstrap))
    producer.produce(topic, value=b"{}")
    producer.flush(30)
    consumer = Consumer(
        consumer_config(eps.kafka_bootstrap, f"bench-{uuid.uuid4()}", embedded=eps.kafka_embedded)
        | {"auto.offset.reset": "latest"}
    )
    consumer.subscribe([topic])
    deadline = time.monotonic() + 60
    while not consumer.assignment():  # wait for the group join before producing
        if time.monotonic() > deadline:
            raise SystemExit(f"no partition of {topic} assigned within 60 s: does the broker create topics?")
        consumer.poll(0.1)
    return consumer


def latency(eps: stack.Endpoints, count: int, rate: float) -> dict[str, float]:
    run = uuid.uuid4().hex
    consumer = _consumer(eps, TOPIC)
    latencies_ms: list[float] = []
    done = threading.Event()

    def consume() -> None:
        while len(latencies_ms) < count and not done.is_set():
            msg = consumer.poll(0.1)
            if msg is None or msg.error():
                continue
            now = time.perf_counter_ns()
            body = json.loads(msg.value() or b"{}")
            if body.get("run") == run and body["n"] >= WARMUP:
                latencies_ms.append((now - body["sent_ns"]) / 1e6)

    thread = threading.Thread(target=consume)
    thread.start()
    producer = Producer(producer_config(eps.kafka_bootstrap))
    interval = 1 / rate
    start = time.perf_counter()
    for n in range(count + WARMUP):
        target = start + n * interval
        while (delay := target - time.perf_counter()) > 0:
            time.sleep(min(delay, 0.001))
        producer.produce(TOPIC, key=b"bench", value=_payload(run, n, time.perf_counter_ns()))
        producer.poll(0)
    producer.flush(10)
    thread.join(timeout=30)
    done.set()
    consumer.close()
    q = statistics.quantiles(latencies_ms, n=100)
    return {
        "latency_p50_ms": round(q[49], 3),
        "latency_p99_ms": round(q[98], 3),
        "latency_samples": len(latencies_ms),
    }


def throughput(eps: stack.Endpoints, count: int) -> dict[str, float]:
    run = uuid.uuid4().hex
    consumer = _consumer(eps, BURST_TOPIC)
    payloads = [_payload(run, n, 0) for n in range(count)]
    producer = Producer(producer_config(eps.kafka_bootstrap) | {"linger.ms": 50, "batch.size": 1_000_000})
    producer.produce(BURST_TOPIC, key=b"warmup", value=_payload("warmup", 0, 0))
    producer.flush(10)  # connection, metadata and producer id before the clock starts
    start = time.perf_counter()
    for n, value in enumerate(payloads):
        while True:
            try:
                producer.produce(BURST_TOPIC, key=str(n).encode(), value=value)
                break
            except BufferError:
                producer.poll(0.01)
    enqueued_s = time.perf_counter() - start
    producer.flush(60)
    produced_s = time.perf_counter() - start
    received = 0
    start = time.perf_counter()
    while received < count and time.perf_counter() - start < 120:
        for msg in consumer.consume(num_messages=1000, timeout=0.005):
            if not msg.error() and b'"run": "' + run.encode() in (msg.value() or b""):
                received += 1
    consumed_s = time.perf_counter() - start
    consumer.close()
    return {
        "produce_enqueue_msgs_per_s": round(count / enqueued_s),
        "produce_acked_msgs_per_s": round(count / produced_s),
        "consume_msgs_per_s": round(received / consumed_s),
        "burst_messages": count,
        "burst_received": received,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--burst", type=int, default=20_000)
    args = parser.parse_args()
    eps = _endpoints()
    figures: dict[str, object] = {
        "bench": "kafka_roundtrip",
        "broker": "embedded" if eps.kafka_embedded else "external",
        "message_bytes": len(_payload("x" * 32, 0, 0)),
        "rate_msgs_per_s": args.rate,
    }
    figures |= latency(eps, args.count, args.rate)
    figures |= throughput(eps, args.burst)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
