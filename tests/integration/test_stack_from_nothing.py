"""From nothing: `stack up`, every topic over the Kafka protocol, a consumer group that resumes,
and `stack down` leaving no process behind. Runs on its own stack dir, not the shared one."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from hypothesis.errors import NonInteractiveExampleWarning

from connectors.kafka import EventProducer, decode_message, new_consumer
from core.enums import OracleStream
from core.models import Event, OracleTick
from core.serde import encode
from core.timestamps import from_ms
from core.topics import TOPICS
from infra import stack
from tests.integration.cli import run_cli
from tests.strategies import for_type
from tests.unit.test_models_roundtrip import CASES

pytestmark = pytest.mark.skipif(
    bool(__import__("os").environ.get("KAFKA_BOOTSTRAP_SERVERS")), reason="embedded stack only"
)


@pytest.fixture(scope="module")
def stack_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("stack")
    yield path
    run_cli("stack", "down", env={"POLYWINDOW_STACK_DIR": str(path)})  # safety net if a test failed


@pytest.fixture(scope="module")
def fresh(stack_dir: Path) -> stack.Endpoints:
    env = {"POLYWINDOW_STACK_DIR": str(stack_dir), "DATABASE_URL": ""}  # embedded, from nothing
    result = run_cli("stack", "up", env=env)
    assert result.returncode == 0, result.stderr
    assert "0001_init.sql" in result.stdout  # a fresh database got the schema
    again = run_cli("stack", "up", env=env)
    assert again.returncode == 0 and "up to date" in again.stdout  # idempotent
    return stack.endpoints(stack_dir, None, None)


def _consume(bootstrap: str, group: str, topics: list[str], want: int, timeout_s: float = 30) -> list[Any]:
    consumer = new_consumer(bootstrap, group, topics, embedded=True)
    got: list[Any] = []
    try:
        for _ in range(int(timeout_s / 0.2)):
            msg = consumer.poll(0.2)
            if msg is not None:
                got.append(decode_message(msg))
                if len(got) >= want:
                    break
    finally:
        consumer.close()
    return got


def test_a_model_is_produced_and_consumed_on_every_declared_topic(fresh: stack.Endpoints) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        sent: list[tuple[str, Event]] = [(name, for_type(model).example()) for name, model in CASES]
    producer = EventProducer(fresh.kafka_bootstrap)
    for topic_name, event in sent:
        producer.produce(topic_name, event)
    producer.flush()

    received = _consume(
        fresh.kafka_bootstrap, f"every-topic-{uuid.uuid4()}", [t.name for t in TOPICS], len(sent)
    )
    assert sorted(encode(e) for e in received) == sorted(encode(e) for _, e in sent)


def _tick(run: str, n: int) -> OracleTick:
    return OracleTick(
        source_ts=from_ms(1780906500000 + n * 1000),
        recv_ts=from_ms(1780906500000 + n * 1000 + 150),
        source_id=f"{run}:{n}",
        symbol="eth/usd",
        stream=OracleStream.CHAINLINK_SPOT,
        price=f"3000.{n}",
    )


def test_a_consumer_group_resumes_after_its_last_commit(fresh: stack.Endpoints) -> None:
    run, group = uuid.uuid4().hex, f"resume-{uuid.uuid4()}"
    producer = EventProducer(fresh.kafka_bootstrap)
    for n in range(10):
        producer.produce("md.oracle", _tick(run, n))
    producer.flush()

    first = new_consumer(fresh.kafka_bootstrap, group, ["md.oracle"], embedded=True)
    seen: list[str] = []
    while len(seen) < 4:
        msg = first.poll(0.5)
        if msg is None:
            continue
        source_id = decode_message(msg).source_id
        if not str(source_id).startswith(run):
            continue  # another test's event on the same topic
        seen.append(source_id)
        if len(seen) == 4:
            first.commit(message=msg, asynchronous=False)  # processed 0..3; 4.. must come again
    first.close()

    resumed = [e.source_id for e in _consume(fresh.kafka_bootstrap, group, ["md.oracle"], want=6)]
    resumed = [source_id for source_id in resumed if str(source_id).startswith(run)]
    assert seen == [f"{run}:{n}" for n in range(4)]
    assert resumed == [f"{run}:{n}" for n in range(4, 10)]


def test_stack_down_leaves_no_process_behind(fresh: stack.Endpoints, stack_dir: Path) -> None:
    statuses = stack.status(stack_dir, None, None)
    pids = [s.pid for s in statuses if s.pid]
    assert len(pids) == 2
    children = [c.pid for pid in pids for c in psutil.Process(pid).children(recursive=True)]

    result = run_cli("stack", "down", env={"POLYWINDOW_STACK_DIR": str(stack_dir)})
    assert result.returncode == 0, result.stderr
    for pid in pids + children:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    leftovers = [
        p.pid for p in psutil.process_iter(["cmdline"]) if str(stack_dir) in " ".join(p.info["cmdline"] or [])
    ]
    assert leftovers == []
    assert run_cli("stack", "status", env={"POLYWINDOW_STACK_DIR": str(stack_dir)}).returncode == 1
