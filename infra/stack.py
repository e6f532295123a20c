"""`stack up|down|status`: start exactly what is missing, wait until it answers, stop what we started.

Embedded services are used only when their URL is unset: PostgreSQL via pgserver, Kafka via
librdkafka's mock cluster in its own process, or (POLYWINDOW_KAFKA=apache) an Apache Kafka cluster
of POLYWINDOW_KAFKA_BROKERS brokers (`infra.apache_kafka`). Their pids and addresses live in the stack dir, so
`down` stops exactly the processes `up` started and copes with stale pid files.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from core.topics import TOPICS, replication_on, topic_config
from infra import apache_kafka, local_pg


class StackError(Exception):
    """What is needed is missing or does not answer; the message says what to do."""


@dataclass(frozen=True)
class Endpoints:
    """`kafka_embedded`: librdkafka's mock (clients poll it fast, it answers a fetch only when its wait
    expires); an Apache Kafka cluster of the stack is a real broker, so False there."""

    database_url: str
    kafka_bootstrap: str
    pg_embedded: bool
    kafka_embedded: bool


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    running: bool | None  # None: external, not probed
    where: str
    pid: int | None


class StackFiles:
    """The files the stack keeps in its dir (git-ignored)."""

    def __init__(self, stack_dir: Path) -> None:
        self.dir = stack_dir
        self.pg_data = stack_dir / "pg"
        self.kafka_pid = stack_dir / "kafka.pid"
        self.kafka_bootstrap = stack_dir / "kafka.bootstrap"  # exists while the broker runs
        self.kafka_port = stack_dir / "kafka.port"  # kept: the broker comes back on the same port
        self.kafka_log = stack_dir / "kafka.log"


def _kafka_pid(files: StackFiles) -> int | None:
    """The launcher's pid if the pid file names a live launcher process (stale files say None)."""
    try:
        pid = int(files.kafka_pid.read_text().strip())
        proc = psutil.Process(pid)
        alive = proc.status() != psutil.STATUS_ZOMBIE and "infra.mock_kafka" in " ".join(proc.cmdline())
        return pid if alive else None
    except (OSError, ValueError, psutil.Error):
        return None


def _start_mock_kafka(files: StackFiles, timeout_s: float) -> str:
    files.kafka_bootstrap.unlink(missing_ok=True)
    topics = json.dumps([[t.name, t.partitions] for t in TOPICS])
    port = files.kafka_port.read_text().strip() if files.kafka_port.exists() else "0"
    with open(files.kafka_log, "ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "infra.mock_kafka",
                "--bootstrap-file",
                str(files.kafka_bootstrap),
                "--topics",
                topics,
                "--ports",
                port,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
    files.kafka_pid.write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if files.kafka_bootstrap.exists():
            bootstrap = files.kafka_bootstrap.read_text().strip()
            files.kafka_port.write_text(",".join(a.rpartition(":")[2] for a in bootstrap.split(",")) + "\n")
            return bootstrap
        if proc.poll() is not None:
            raise StackError(f"embedded Kafka exited with {proc.returncode}; see {files.kafka_log}")
        time.sleep(0.05)
    raise StackError(f"embedded Kafka did not start within {timeout_s:.0f}s; see {files.kafka_log}")


def ensure_topics(bootstrap: str, client_config: dict[str, str], timeout_s: float) -> None:
    """Create missing declared topics on a real cluster with their declared settings (`core.topics`:
    partitions, replication capped at the cluster's size, retention, `ctl.controls` compacted)."""
    admin = AdminClient({"bootstrap.servers": bootstrap, **client_config})
    metadata = admin.list_topics(timeout=timeout_s)
    existing, brokers = set(metadata.topics), len(metadata.brokers)
    missing = [
        NewTopic(
            t.name,
            num_partitions=t.partitions,
            replication_factor=replication_on(t, brokers),
            config=topic_config(t, brokers),
        )
        for t in TOPICS
        if t.name not in existing
    ]
    if not missing:
        return
    for name, future in admin.create_topics(missing, request_timeout=timeout_s).items():
        try:
            future.result()
        except Exception as exc:  # confluent_kafka raises KafkaException with a KafkaError inside
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise StackError(f"creating topic {name} on {bootstrap} failed: {exc}") from exc


def wait_kafka(bootstrap: str, client_config: dict[str, str], timeout_s: float) -> None:
    """Until the broker answers metadata with every declared topic."""
    admin = AdminClient({"bootstrap.servers": bootstrap, **client_config})
    deadline = time.monotonic() + timeout_s
    wanted = {t.name for t in TOPICS}
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            found = set(admin.list_topics(timeout=2).topics)
            if wanted <= found:
                return
            last = f"missing topics {sorted(wanted - found)}"
        except Exception as exc:  # KafkaException on timeout
            last = str(exc)
        time.sleep(0.2)
    raise StackError(f"KAFKA_BOOTSTRAP_SERVERS={bootstrap} does not answer: {last}")


def redact(url: str) -> str:
    """A database URL with its password replaced, for messages and logs."""
    head, sep, tail = url.partition("@")
    if not sep or "://" not in head:
        return url
    scheme, _, userinfo = head.partition("://")
    user, has_password, password = userinfo.partition(":")
    return f"{scheme}://{user}:***@{tail}" if has_password and password else url


def wait_postgres(url: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(url, connect_timeout=3) as conn:
                conn.execute("SELECT 1")
                return
        except psycopg.Error as exc:
            last = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        time.sleep(0.2)
    raise StackError(f"DATABASE_URL={redact(url)} does not answer: {last}")


def _start_pg(files: StackFiles) -> str:
    try:
        url, _ = local_pg.start(files.pg_data)
    except local_pg.LocalPgError as exc:
        raise StackError(str(exc)) from None
    return url


def _apache_running(files: StackFiles) -> bool:
    return any(s.pid is not None for s in apache_kafka.states(files.dir))


def _start_apache(files: StackFiles, brokers: int, use_netns: bool, timeout_s: float) -> str:
    """The stack's Apache Kafka cluster, started where it is not running; its topics ensured."""
    if _kafka_pid(files) is not None:
        raise StackError("the embedded mock Kafka runs in this stack dir: `polywindow stack down` first")
    try:
        layout = apache_kafka.start(files.dir, brokers, use_netns, max(timeout_s, 90.0))
    except (apache_kafka.KafkaClusterError, OSError) as exc:
        raise StackError(
            f"POLYWINDOW_KAFKA=apache: {exc}; see {apache_kafka.cluster_dir(files.dir)}"
        ) from None
    ensure_topics(layout.bootstrap, {}, timeout_s)
    files.kafka_bootstrap.write_text(layout.bootstrap + "\n")
    return layout.bootstrap


def up(
    stack_dir: Path,
    database_url: str | None,
    kafka_bootstrap: str | None,
    kafka_client_config: dict[str, str],
    timeout_s: float,
    kafka_engine: str = "mock",
    kafka_brokers: int = 1,
    kafka_netns: bool = False,
) -> Endpoints:
    """Idempotent: reuses running embedded services, starts the missing ones, waits for both. An
    Apache Kafka cluster already running in the stack dir is reused whatever `kafka_engine` says."""
    files = StackFiles(stack_dir)
    files.dir.mkdir(parents=True, exist_ok=True)
    pg_embedded = database_url is None
    if pg_embedded:
        database_url = _start_pg(files)
    assert database_url is not None
    kafka_embedded = kafka_bootstrap is None
    if kafka_embedded:
        if kafka_engine == "apache" or _apache_running(files):
            kafka_embedded = False  # a real broker: clients take the settings of one (`Endpoints`)
            layout = apache_kafka.load_layout(files.dir)
            brokers = len(layout.brokers) if layout and kafka_engine != "apache" else kafka_brokers
            use_netns = bool(layout and layout.netns_tag) if kafka_engine != "apache" else kafka_netns
            kafka_bootstrap = _start_apache(files, brokers, use_netns, timeout_s)
        elif _kafka_pid(files) is not None and files.kafka_bootstrap.exists():
            kafka_bootstrap = files.kafka_bootstrap.read_text().strip()
        else:
            kafka_bootstrap = _start_mock_kafka(files, timeout_s)
    else:
        assert kafka_bootstrap is not None
        ensure_topics(kafka_bootstrap, kafka_client_config, timeout_s)
    wait_postgres(database_url, timeout_s)
    wait_kafka(kafka_bootstrap, kafka_client_config, timeout_s)
    return Endpoints(database_url, kafka_bootstrap, pg_embedded, kafka_embedded)


def endpoints(stack_dir: Path, database_url: str | None, kafka_bootstrap: str | None) -> Endpoints:
    """Where the services are, without starting anything; StackError if an embedded one is down."""
    files = StackFiles(stack_dir)
    pg_embedded, kafka_embedded = database_url is None, kafka_bootstrap is None
    if database_url is None:
        if local_pg.running_pid(files.pg_data) is None:
            raise StackError(
                "DATABASE_URL is unset and the embedded PostgreSQL is not running: "
                "run `polywindow stack up` (or set DATABASE_URL)"
            )
        database_url = _start_pg(files)
    if kafka_bootstrap is None:
        if _apache_running(files):
            kafka_embedded = False
        running = _kafka_pid(files) is not None or not kafka_embedded
        if not running or not files.kafka_bootstrap.exists():
            raise StackError(
                "KAFKA_BOOTSTRAP_SERVERS is unset and the embedded Kafka is not running: "
                "run `polywindow stack up` (or set KAFKA_BOOTSTRAP_SERVERS)"
            )
        kafka_bootstrap = files.kafka_bootstrap.read_text().strip()
    return Endpoints(database_url, kafka_bootstrap, pg_embedded, kafka_embedded)


def down(stack_dir: Path, timeout_s: float = 20.0) -> list[str]:
    """Stop the embedded services this stack dir started; returns what was stopped."""
    files = StackFiles(stack_dir)
    stopped = []
    pid = _kafka_pid(files)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        try:
            psutil.Process(pid).wait(timeout_s)
        except psutil.TimeoutExpired:
            os.kill(pid, signal.SIGKILL)
        except psutil.NoSuchProcess:
            pass
        stopped.append(f"kafka (pid {pid})")
    files.kafka_pid.unlink(missing_ok=True)
    stopped += apache_kafka.stop(stack_dir, timeout_s)
    files.kafka_bootstrap.unlink(missing_ok=True)
    pg_pid = local_pg.stop(files.pg_data, timeout_s)
    if pg_pid is not None:
        stopped.append(f"postgresql (pid {pg_pid})")
    return stopped


def status(stack_dir: Path, database_url: str | None, kafka_bootstrap: str | None) -> list[ServiceStatus]:
    files = StackFiles(stack_dir)
    result = []
    if database_url is None:
        pg_pid = local_pg.running_pid(files.pg_data)
        if pg_pid is not None and local_pg.shutting_down(files.pg_data):
            where = f"embedded, SHUTTING DOWN (waits for its clients; `stack down` ends it), data in {files.pg_data}"
            result.append(ServiceStatus("postgresql", False, where, pg_pid))
        else:
            where = f"embedded, data in {files.pg_data}"
            result.append(ServiceStatus("postgresql", pg_pid is not None, where, pg_pid))
    else:
        result.append(ServiceStatus("postgresql", None, f"external {redact(database_url)}", None))
    brokers = apache_kafka.states(stack_dir)
    if kafka_bootstrap is None and brokers and (_apache_running(files) or _kafka_pid(files) is None):
        for state in brokers:
            where = f"embedded Apache Kafka broker {state.broker.node_id} at {state.broker.address}"
            result.append(
                ServiceStatus(f"kafka-{state.broker.node_id}", state.pid is not None, where, state.pid)
            )
    elif kafka_bootstrap is None:
        k_pid = _kafka_pid(files)
        where = files.kafka_bootstrap.read_text().strip() if k_pid and files.kafka_bootstrap.exists() else "-"
        result.append(ServiceStatus("kafka", k_pid is not None, f"embedded mock cluster {where}", k_pid))
    else:
        result.append(ServiceStatus("kafka", None, f"external {kafka_bootstrap}", None))
    return result
