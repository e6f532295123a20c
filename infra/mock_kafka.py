"""Launcher of librdkafka's mock cluster: a real Kafka-protocol broker on loopback, in memory.

Run as its own process (`python -m infra.mock_kafka --bootstrap-file F --topics JSON [--ports P]`):
it creates the cluster and the declared topics, puts a forwarder on a stable port in front of each
broker (`infra.tcp_forward`: the mock's own listener port is chosen by the kernel, so a restarted
broker would otherwise come back at another address), advertises those ports in the metadata,
writes the bootstrap address to F once everything exists, and keeps the cluster alive until
SIGTERM/SIGINT. The library ships inside the confluent-kafka wheel; only its `rd_kafka_mock_*` C
calls are used.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import sys
import threading
from pathlib import Path

import confluent_kafka

from infra.tcp_forward import Forwarder

RD_KAFKA_PRODUCER = 1


def _load_librdkafka() -> ctypes.CDLL:
    libs = Path(confluent_kafka.__file__).parent.parent / "confluent_kafka.libs"
    candidates = sorted(libs.glob("librdkafka*.so*"))
    if not candidates:
        raise SystemExit(f"librdkafka not found beside confluent_kafka (looked in {libs.name}/)")
    lib = ctypes.CDLL(str(candidates[0]))
    lib.rd_kafka_conf_new.restype = ctypes.c_void_p
    lib.rd_kafka_conf_set.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_size_t,
    ]
    lib.rd_kafka_new.restype = ctypes.c_void_p
    lib.rd_kafka_new.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.rd_kafka_mock_cluster_new.restype = ctypes.c_void_p
    lib.rd_kafka_mock_cluster_new.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.rd_kafka_mock_cluster_bootstraps.restype = ctypes.c_char_p
    lib.rd_kafka_mock_cluster_bootstraps.argtypes = [ctypes.c_void_p]
    lib.rd_kafka_mock_topic_create.restype = ctypes.c_int
    lib.rd_kafka_mock_topic_create.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
    lib.rd_kafka_mock_broker_set_host_port.restype = None
    lib.rd_kafka_mock_broker_set_host_port.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int32,
        ctypes.c_char_p,
        ctypes.c_int,
    ]
    return lib


def serve(topics: list[tuple[str, int]], bootstrap_file: Path, ports: list[int]) -> None:
    """Create the cluster (one broker per entry of `ports`, 0 = any free port) and topics, publish
    the stable address, block until asked to stop."""
    brokers = len(ports)
    lib = _load_librdkafka()
    conf = lib.rd_kafka_conf_new()
    errbuf = ctypes.create_string_buffer(512)
    # A silent handle: the mock cluster needs one, it never connects anywhere itself.
    lib.rd_kafka_conf_set(conf, b"log_level", b"3", errbuf, len(errbuf))
    handle = lib.rd_kafka_new(RD_KAFKA_PRODUCER, conf, errbuf, len(errbuf))
    if not handle:
        raise SystemExit(f"rd_kafka_new failed: {errbuf.value.decode()}")
    cluster = lib.rd_kafka_mock_cluster_new(handle, brokers)
    if not cluster:
        raise SystemExit("rd_kafka_mock_cluster_new failed")
    for name, partitions in topics:
        err = lib.rd_kafka_mock_topic_create(cluster, name.encode(), partitions, 1)
        if err != 0:
            raise SystemExit(f"creating topic {name} failed with error {err}")
    forwarders = []
    for broker_id, (listening, wanted) in enumerate(
        zip(lib.rd_kafka_mock_cluster_bootstraps(cluster).decode().split(","), ports, strict=True), start=1
    ):
        host, _, port = listening.rpartition(":")
        try:
            forwarder = Forwarder(wanted, (host, int(port)))
        except OSError as exc:
            raise SystemExit(
                f"the embedded broker's port {wanted} is taken ({exc.strerror}); stop what holds it, or "
                f"delete {bootstrap_file.with_name('kafka.port')} to move the broker to a new port"
            ) from None
        lib.rd_kafka_mock_broker_set_host_port(cluster, broker_id, b"127.0.0.1", forwarder.port)
        forwarders.append(forwarder)
    bootstrap = ",".join(f"127.0.0.1:{f.port}" for f in forwarders)
    tmp = bootstrap_file.with_suffix(".tmp")
    tmp.write_text(bootstrap + "\n")
    os.replace(tmp, bootstrap_file)
    print(f"mock kafka cluster at {bootstrap} with {len(topics)} topics", flush=True)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    bootstrap_file.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap-file", type=Path, required=True)
    parser.add_argument("--topics", required=True, help="JSON list of [name, partitions] pairs")
    parser.add_argument(
        "--ports", default="0", help="comma-separated stable port per broker (0 = any free port)"
    )
    args = parser.parse_args(argv)
    topics = [(str(name), int(parts)) for name, parts in json.loads(args.topics)]
    serve(topics, args.bootstrap_file, [int(p) for p in args.ports.split(",")])
    sys.exit(0)


if __name__ == "__main__":
    main()
