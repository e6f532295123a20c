"""A local Apache Kafka cluster in KRaft mode: one JVM per broker, each broker also a controller.

`polywindow stack up` with POLYWINDOW_KAFKA=apache runs it from the jars `make kafka` put in
`infra/kafka/lib` (checked against `infra/kafka/jars.sha256`). Everything lives in `<stack dir>/apache`:
`cluster.json` (the generated cluster id, each broker's address, the namespace tag), and per broker
its properties, data, log and pid file. The layout is kept, so a broker stopped and started again
comes back at the same address with its data; with namespaces (POLYWINDOW_KAFKA_NETNS=1, root) each
broker is a host of its own on a bridge (`infra.netns`), else every broker is on loopback.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil
from confluent_kafka.admin import AdminClient

from infra import netns
from infra.kafka_jars import LIB_DIR, problems

HEAP = "-Xmx384m"
CLIENT_PORT, CONTROLLER_PORT = 9092, 9093  # inside a broker's own namespace


class KafkaClusterError(Exception):
    """The cluster cannot be started; the message says what is missing and what to do."""


@dataclass(frozen=True)
class Broker:
    node_id: int
    host: str
    port: int
    controller_port: int

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Layout:
    cluster_id: str
    brokers: tuple[Broker, ...]
    netns_tag: str | None  # None: every broker on loopback

    @property
    def bootstrap(self) -> str:
        return ",".join(b.address for b in self.brokers)

    def net(self) -> netns.Net | None:
        return netns.Net(self.netns_tag, len(self.brokers)) if self.netns_tag else None


@dataclass(frozen=True)
class BrokerState:
    broker: Broker
    pid: int | None


def cluster_dir(stack_dir: Path) -> Path:
    return stack_dir / "apache"


def _layout_file(stack_dir: Path) -> Path:
    return cluster_dir(stack_dir) / "cluster.json"


def _pid_file(stack_dir: Path, node_id: int) -> Path:
    return cluster_dir(stack_dir) / f"broker-{node_id}.pid"


def load_layout(stack_dir: Path) -> Layout | None:
    """The cluster this stack dir has run, or None (then its Kafka is the mock, if any)."""
    path = _layout_file(stack_dir)
    if not path.exists():
        return None
    raw = json.loads(path.read_text())
    brokers = tuple(Broker(**b) for b in raw["brokers"])
    return Layout(raw["cluster_id"], brokers, raw.get("netns_tag"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _new_layout(brokers: int, use_netns: bool) -> Layout:
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if use_netns:
        tag = uuid.uuid4().hex[:4]
        net = netns.Net(tag, brokers)
        nodes = tuple(Broker(i, net.address(i), CLIENT_PORT, CONTROLLER_PORT) for i in range(1, brokers + 1))
        return Layout(cluster_id, nodes, tag)
    nodes = tuple(Broker(i, "127.0.0.1", _free_port(), _free_port()) for i in range(1, brokers + 1))
    return Layout(cluster_id, nodes, None)


def broker_properties(layout: Layout, broker: Broker, data_dir: Path) -> str:
    """server.properties of one combined broker+controller (small: a dev cluster on a small machine)."""
    n = len(layout.brokers)
    voters = ",".join(f"{b.node_id}@{b.host}:{b.controller_port}" for b in layout.brokers)
    replicas, min_isr = min(3, n), min(2, n)
    lines = {
        "process.roles": "broker,controller",
        "node.id": str(broker.node_id),
        "controller.quorum.voters": voters,
        "listeners": f"PLAINTEXT://{broker.host}:{broker.port},CONTROLLER://{broker.host}:{broker.controller_port}",
        "advertised.listeners": f"PLAINTEXT://{broker.address}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data_dir),
        "default.replication.factor": str(replicas),
        "min.insync.replicas": str(min_isr),
        "offsets.topic.replication.factor": str(replicas),
        "transaction.state.log.replication.factor": str(replicas),
        "transaction.state.log.min.isr": str(min_isr),
        "group.initial.rebalance.delay.ms": "0",
        # a broker cut off is fenced and its partitions led elsewhere within about 6 s
        "broker.heartbeat.interval.ms": "1000",
        "broker.session.timeout.ms": "6000",
        "log.cleaner.backoff.ms": "2000",
        "num.network.threads": "2",
        "num.io.threads": "2",
        "background.threads": "2",
        "num.recovery.threads.per.data.dir": "1",
        "log.cleaner.threads": "1",
    }
    return "".join(f"{k}={v}\n" for k, v in lines.items())


LOG4J2 = """status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
"""


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise KafkaClusterError("POLYWINDOW_KAFKA=apache needs a JDK 17+ (`java` on the PATH or JAVA_HOME)")
    return java


def _check_jars() -> None:
    found = problems()
    if found:
        raise KafkaClusterError(
            f"the Apache Kafka jars in infra/kafka/lib are not the pinned ones ({'; '.join(found[:3])}): "
            "run `make kafka`"
        )


def broker_pid(stack_dir: Path, node_id: int) -> int | None:
    """The broker's pid if its pid file names a live broker JVM of this stack (stale files say None)."""
    try:
        pid = int(_pid_file(stack_dir, node_id).read_text().strip())
        proc = psutil.Process(pid)
        cmd = " ".join(proc.cmdline())
        mine = "kafka.Kafka" in cmd and str(cluster_dir(stack_dir)) in cmd
        return pid if mine and proc.status() != psutil.STATUS_ZOMBIE else None
    except (OSError, ValueError, psutil.Error):
        return None


def states(stack_dir: Path) -> list[BrokerState]:
    layout = load_layout(stack_dir)
    if layout is None:
        return []
    return [BrokerState(b, broker_pid(stack_dir, b.node_id)) for b in layout.brokers]


def start_broker(stack_dir: Path, layout: Layout, broker: Broker) -> int:
    """Format the broker's storage on its first start, then run its JVM; returns the pid."""
    home = cluster_dir(stack_dir) / f"broker-{broker.node_id}"
    data = home / "data"
    data.mkdir(parents=True, exist_ok=True)
    props = home / "server.properties"
    props.write_text(broker_properties(layout, broker, data))
    (home / "log4j2.properties").write_text(LOG4J2)
    java = [_java(), "-cp", str(LIB_DIR / "*"), f"-Dlog4j2.configurationFile={home / 'log4j2.properties'}"]
    if not (data / "meta.properties").exists():
        fmt = subprocess.run(
            [
                *java,
                "-Xmx128m",
                "kafka.tools.StorageTool",
                "format",
                "-t",
                layout.cluster_id,
                "-c",
                str(props),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if fmt.returncode != 0:
            raise KafkaClusterError(
                f"formatting broker {broker.node_id}'s storage failed: {fmt.stderr.strip()}"
            )
    net = layout.net()
    prefix = net.exec_prefix(broker.node_id) if net else []
    jvm = [HEAP, "-Xms64m", "-XX:+UseSerialGC", "-Djava.awt.headless=true"]
    with open(home / "broker.log", "ab") as log:
        proc = subprocess.Popen(
            [*prefix, *java, *jvm, "kafka.Kafka", str(props)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _pid_file(stack_dir, broker.node_id).write_text(f"{proc.pid}\n")
    return proc.pid


def wait_brokers(bootstrap: str, brokers: int, timeout_s: float) -> None:
    """Until the cluster's metadata lists every broker."""
    admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": "0"})
    deadline = time.monotonic() + timeout_s
    seen = 0
    while time.monotonic() < deadline:
        try:
            seen = len(admin.list_topics(timeout=2).brokers)
            if seen >= brokers:
                return
        except Exception:  # KafkaException while the brokers start
            pass
        time.sleep(0.3)
    raise KafkaClusterError(
        f"only {seen} of {brokers} brokers answered at {bootstrap} within {timeout_s:.0f}s"
    )


def start(stack_dir: Path, brokers: int, use_netns: bool, timeout_s: float) -> Layout:
    """Start every broker of the cluster that is not running (idempotent); returns the layout."""
    _check_jars()
    layout = load_layout(stack_dir)
    if layout is not None and len(layout.brokers) != brokers:
        running = [s for s in states(stack_dir) if s.pid]
        if running:
            raise KafkaClusterError(
                f"the stack's Kafka cluster has {len(layout.brokers)} brokers, not POLYWINDOW_KAFKA_BROKERS="
                f"{brokers}: `polywindow stack down` first"
            )
        shutil.rmtree(cluster_dir(stack_dir))
        layout = None
    if layout is not None and bool(layout.netns_tag) != use_netns:
        if any(s.pid for s in states(stack_dir)):
            raise KafkaClusterError(
                "POLYWINDOW_KAFKA_NETNS changed while the cluster runs: `stack down` first"
            )
        shutil.rmtree(cluster_dir(stack_dir))
        layout = None
    if use_netns and not netns.available():
        raise KafkaClusterError("POLYWINDOW_KAFKA_NETNS=1 needs root and iproute2's `ip`")
    if layout is None:
        layout = _new_layout(brokers, use_netns)
        cluster_dir(stack_dir).mkdir(parents=True, exist_ok=True)
        _layout_file(stack_dir).write_text(
            json.dumps({**asdict(layout), "brokers": [asdict(b) for b in layout.brokers]})
        )
    down = [s.broker for s in states(stack_dir) if s.pid is None]
    net = layout.net()
    if net is not None and len(down) == len(layout.brokers):
        net.setup()
    for broker in down:
        start_broker(stack_dir, layout, broker)
    wait_brokers(layout.bootstrap, len(layout.brokers), timeout_s)
    return layout


def stop_broker(
    stack_dir: Path, node_id: int, sig: int = signal.SIGTERM, timeout_s: float = 30.0
) -> int | None:
    """Stop one broker (SIGTERM: a clean shutdown, SIGKILL after `timeout_s`); returns its pid."""
    pid = broker_pid(stack_dir, node_id)
    if pid is None:
        return None
    os.kill(pid, sig)
    try:
        psutil.Process(pid).wait(timeout_s)
    except psutil.TimeoutExpired:
        os.kill(pid, signal.SIGKILL)
        psutil.Process(pid).wait(timeout_s)
    except psutil.NoSuchProcess:
        pass
    _pid_file(stack_dir, node_id).unlink(missing_ok=True)
    return pid


def stop(stack_dir: Path, timeout_s: float = 20.0) -> list[str]:
    """Stop every broker this stack dir started (all at once: a quorum stopped one by one can leave
    the last brokers waiting for it) and remove its namespaces; data stays."""
    layout = load_layout(stack_dir)
    if layout is None:
        return []
    running = [(b, broker_pid(stack_dir, b.node_id)) for b in layout.brokers]
    procs = []
    for broker, pid in running:
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            procs.append((broker, pid))
    _, alive = psutil.wait_procs(
        [psutil.Process(pid) for _, pid in procs if psutil.pid_exists(pid)], timeout_s
    )
    for proc in alive:
        proc.kill()
    psutil.wait_procs(alive, timeout_s)
    for broker in layout.brokers:
        _pid_file(stack_dir, broker.node_id).unlink(missing_ok=True)
    net = layout.net()
    if net is not None:
        net.teardown()
    return [f"kafka broker {b.node_id} (pid {pid})" for b, pid in procs]
