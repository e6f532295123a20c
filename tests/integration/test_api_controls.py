"""The control API's writes: the token is required (compared in constant time) and a write without it
changes nothing; a control change lands in the table, on ctl.controls and in the audit log with who
and why; the kill switch routes set the kill_switch control the same way; a bad value is a 400
naming the problem."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from confluent_kafka import Consumer

from connectors.kafka import consumer_config, decode_message
from core.models import ControlChange
from sinks.postgres.migrate import migrate
from tests.integration.api_harness import RunningApi, running_api, wait_for
from tests.integration.private_kafka import PrivateKafka, private_kafka

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]


@pytest.fixture
def kafka() -> Iterator[PrivateKafka]:
    with private_kafka() as cluster:
        yield cluster


@pytest.fixture
def api(fresh_database: str, kafka: PrivateKafka) -> Iterator[RunningApi]:
    migrate(fresh_database)
    with running_api(fresh_database, kafka.bootstrap) as running:
        yield running


def _controls(database: str) -> dict[str, str]:
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT name, value::text FROM runtime_controls").fetchall()
    return {name: value for name, value in rows}


def _audit(database: str) -> list[tuple[str, str, str, dict[str, object]]]:
    with psycopg.connect(database) as conn:
        rows = conn.execute("SELECT actor, action, subject, detail FROM audit_log ORDER BY id").fetchall()
    return [(a, b, c, d) for a, b, c, d in rows]


def _database(api: RunningApi) -> str:
    return api.database


WRITES = [
    ("/api/controls", {"name": "kill_switch", "value": "RUN", "who": "ops", "why": "go"}),
    ("/api/kill-switch/pause", {"who": "ops", "why": "stop"}),
    ("/api/kill-switch/flatten", {"who": "ops", "why": "stop"}),
    ("/api/kill-switch/emergency", {"who": "ops", "why": "stop"}),
    ("/api/kill-switch/resume", {"who": "ops", "why": "go"}),
    ("/api/breaker/reset", {"who": "ops", "why": "checked"}),
]


@pytest.mark.parametrize("token", [None, "wrong-token", ""])
def test_writes_without_the_token_get_401_and_change_nothing(api: RunningApi, token: str | None) -> None:
    database = _database(api)
    before, audit_before = _controls(database), _audit(database)
    with api.client(token) as client:
        for path, body in WRITES:
            answer = client.post(path, json=body)
            assert answer.status_code == 401, (path, answer.text)
            assert "token" in answer.json()["detail"]
        bad_body = client.post("/api/controls", json={"name": "nope"})
        assert bad_body.status_code == 401
    assert _controls(database) == before
    assert _audit(database) == audit_before


def _consume_controls(bootstrap: str) -> Consumer:
    consumer = Consumer(consumer_config(bootstrap, f"t-{uuid.uuid4().hex[:8]}", embedded=True))
    consumer.subscribe(["ctl.controls"])
    return consumer


def test_a_control_change_lands_in_the_table_on_the_topic_and_in_the_audit_log(
    api: RunningApi, kafka: PrivateKafka
) -> None:
    database = _database(api)
    with api.client() as client:
        answer = client.post(
            "/api/controls",
            json={"name": "max_position_usd", "value": "3.50", "who": "alice", "why": "smaller bets today"},
        )
    assert answer.status_code == 200, answer.text
    assert _controls(database)["max_position_usd"] == '"3.50"'
    actor, action, subject, detail = _audit(database)[-1]
    assert (actor, action, subject) == ("alice", "control.set", "max_position_usd")
    assert detail["why"] == "smaller bets today" and detail["from"] == "5" and detail["to"] == "3.50"
    consumer = _consume_controls(kafka.bootstrap)
    seen: list[ControlChange] = []

    def arrived() -> bool:
        msg = consumer.poll(0.2)
        if msg is not None and not msg.error():
            seen.append(decode_message(msg))
        return bool(seen)

    try:
        wait_for(arrived, 30, "the change on ctl.controls")
    finally:
        consumer.close()
    change = seen[0]
    assert change.name.value == "max_position_usd" and change.value == "3.50"
    assert change.updated_by == "alice" and change.reason == "smaller bets today"


def test_pause_through_the_api_is_seen_by_the_table_and_resume_sets_run(api: RunningApi) -> None:
    database = _database(api)
    with api.client() as client:
        assert client.post("/api/kill-switch/resume", json={"who": "bob", "why": "start"}).status_code == 200
        assert _controls(database)["kill_switch"] == '"RUN"'
        assert (
            client.post("/api/kill-switch/pause", json={"who": "bob", "why": "odd fills"}).status_code == 200
        )
        assert _controls(database)["kill_switch"] == '"PAUSE"'
        shown = client.get("/api/controls").json()
    assert shown["kill_switch"]["value"] == "PAUSE" and shown["kill_switch"]["updated_by"] == "bob"
    assert [a[1] for a in _audit(database)[-2:]] == ["control.set", "control.set"]


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("kill_switch", "SOMETIMES", "kill_switch takes one of"),
        ("max_position_usd", "-1", "between 0 and"),
        ("max_position_usd", "lots", "dollar amount"),
        ("allowed_instruments", "[1, 2]", "list"),
        ("no_such_control", "1", "unknown control"),
    ],
)
def test_a_bad_value_is_a_400_naming_the_problem_and_changes_nothing(
    api: RunningApi, name: str, value: str, reason: str
) -> None:
    database = _database(api)
    before = _controls(database)
    with api.client() as client:
        answer = client.post("/api/controls", json={"name": name, "value": value, "who": "ops", "why": "x"})
    assert answer.status_code == 400 and reason in answer.json()["detail"]
    assert _controls(database) == before


def test_a_write_without_who_or_why_is_refused(api: RunningApi) -> None:
    with api.client() as client:
        answer = client.post("/api/kill-switch/pause", json={"who": "", "why": "x"})
    assert answer.status_code == 422
