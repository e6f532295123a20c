"""The safety net end to end: a failing runtime assertion (the venue holds a position we do not)
opens the breaker naming the assertion, writes it to PostgreSQL and ops.assertions, alerts a local
webhook once however many ticks it keeps failing; /health reports it with a 503; an operator's
reset through the API (audited) clears it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from confluent_kafka import Consumer
from psycopg_pool import ConnectionPool
from pydantic import SecretStr

from connectors.kafka import consumer_config, decode_message
from core.assertions import FillView, OrderView, TickSnapshot
from core.enums import BreakerState, OrderStatus, TradeStatus
from core.models import Alert, BreakerChange, Event
from execution.assertion_runner import AssertionRunner
from sinks.alerts import Notifier
from sinks.postgres.alert_delivery import AlertDeliveryLog
from sinks.postgres.migrate import migrate
from tests.integration.api_harness import RunningApi, running_api, wait_for
from tests.integration.private_kafka import PrivateKafka, private_kafka
from tests.integration.webhook_receiver import Receiver, webhook_receiver

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture
def kafka() -> Iterator[PrivateKafka]:
    with private_kafka() as cluster:
        yield cluster


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(fresh_database: str, kafka: PrivateKafka, clock: Clock) -> Iterator[RunningApi]:
    migrate(fresh_database)
    with running_api(fresh_database, kafka.bootstrap, now=clock) as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as found:
        yield found


def _snapshot(at: datetime, venue_extra: bool) -> TickSnapshot:
    venue = {"tok1": Decimal("5")} | ({"tok2": Decimal("10")} if venue_extra else {})
    return TickSnapshot(
        at=at,
        intent_order_ids=frozenset({"c1"}),
        orders=(
            OrderView("c1", "0x" + "a" * 64, OrderStatus.FILLED, "btc-5m", "w1", at - timedelta(minutes=1)),
        ),
        fills=(FillView("t1", TradeStatus.CONFIRMED, at - timedelta(seconds=20)),),
        our_positions={"tok1": Decimal("5")},
        venue_positions=venue,
        position_costs={"p1": Decimal("2.5")},
        our_pnl_usd=Decimal(0),
        recomputed_pnl_usd=Decimal(0),
        allowed_instruments=frozenset({"btc-5m"}),
        max_position_usd=Decimal(5),
        executor_heartbeat_at=at,
        our_balance_usd=Decimal(100),
        venue_balance_usd=Decimal(100),
    )


def _audit_actions(database: str) -> list[tuple[str, str]]:
    with psycopg.connect(database) as conn:
        return [(a, b) for a, b in conn.execute("SELECT actor, action FROM audit_log ORDER BY id").fetchall()]


def test_a_failing_assertion_trips_the_breaker_alerts_once_shows_in_health_and_a_reset_clears_it(
    api: RunningApi, kafka: PrivateKafka, clock: Clock, receiver: Receiver
) -> None:
    database = api.database
    venue_differs = [True]
    published: list[tuple[str, Event]] = []

    def publish(topic: str, event: Event) -> None:
        published.append((topic, event))
        api.deps.publish(topic, event)

    with ConnectionPool(database, min_size=1, max_size=2, open=True) as pool:
        notifier = Notifier([SecretStr(receiver.url)], AlertDeliveryLog(pool), wait_max_s=0.2)
        sent: list[Alert] = []

        def alert(a: Alert) -> None:
            sent.append(a)
            notifier.notify(a)

        runner = AssertionRunner(lambda: _snapshot(clock(), venue_differs[0]), pool, publish, alert)
        with api.client() as client:
            assert client.get("/health").status_code == 200
            for _ in range(3):
                runner.tick()
            assert runner.blocked()
            health = client.get("/health")
            assert health.status_code == 503
            body = health.json()
            assert body["breaker"]["state"] == "OPEN" and body["breaker"]["cause"] == "position_count"
            assert "tok2" in body["breaker"]["evidence"]
            assert {a["name"]: a["passed"] for a in body["assertions"]}["position_count"] is False
            wait_for(lambda: len(receiver.received) >= 2, 20, "the alerts at the webhook")
            titles = sorted(m["title"] for m in receiver.received)
            assert len(receiver.received) == 2, titles  # the trip and the assertion, each once
            assert any("breaker.open" in t for t in titles) and any("assertion.failed" in t for t in titles)
            assert len(sent) == 4  # the trip once, the assertion every tick it failed; each delivered once

            venue_differs[0] = False
            runner.tick()
            assert client.get("/health").status_code == 503  # passing now, but only a reset closes it
            answer = client.post(
                "/api/breaker/reset", json={"who": "carol", "why": "venue position explained"}
            )
            assert answer.status_code == 200, answer.text
            assert client.get("/health").status_code == 200
            assert client.post("/api/breaker/reset", json={"who": "carol", "why": "again"}).status_code == 409
        runner.tick()
        assert not runner.blocked()
    assert ("carol", "breaker.close") in _audit_actions(database)
    with psycopg.connect(database) as conn:
        states = [s for (s,) in conn.execute("SELECT state FROM breaker_events ORDER BY id").fetchall()]
        failed = conn.execute("SELECT count(*) FROM assertion_results WHERE NOT passed").fetchone()
        trips = conn.execute(
            "SELECT delivered_at IS NOT NULL FROM alerts WHERE kind = 'breaker.open'"
        ).fetchall()
    assert states == ["OPEN", "CLOSED"] and failed == (3,)
    assert trips == [(True,)]  # the row the trip wrote is the alert delivered: one row, marked delivered
    opened = [e for t, e in published if t == "ops.assertions" and isinstance(e, BreakerChange)]
    assert [e.state for e in opened] == [BreakerState.OPEN]
    consumer = Consumer(consumer_config(kafka.bootstrap, f"t-{uuid.uuid4().hex[:8]}", embedded=True))
    consumer.subscribe(["ops.assertions"])
    changes: list[BreakerState] = []

    def both_changes() -> bool:
        msg = consumer.poll(0.2)
        if msg is not None and not msg.error():
            event = decode_message(msg)
            if isinstance(event, BreakerChange):
                changes.append(event.state)
        return len(changes) >= 2

    try:
        wait_for(both_changes, 30, "the trip and the reset on ops.assertions")
    finally:
        consumer.close()
    assert changes == [BreakerState.OPEN, BreakerState.CLOSED]


def test_a_webhook_failing_twice_still_gets_the_alert_once_and_a_dead_one_is_recorded_not_fatal(
    fresh_database: str, receiver: Receiver
) -> None:
    migrate(fresh_database)
    at = datetime(2031, 5, 1, tzinfo=UTC)
    first = Alert(alert_kind="breaker.open", severity="CRITICAL", message="m", dedupe_key="k1", event_ts=at)
    with ConnectionPool(fresh_database, min_size=1, max_size=2, open=True) as pool:
        notifier = Notifier([SecretStr(receiver.url)], AlertDeliveryLog(pool), wait_max_s=0.1)
        receiver.fail_next = 2
        assert notifier.notify(first)
        assert notifier.notify(first)
        assert len(receiver.received) == 1 and receiver.attempts == 3
        dead = Notifier(
            [SecretStr("json://127.0.0.1:9/nowhere")], AlertDeliveryLog(pool), attempts=2, wait_max_s=0.1
        )
        second = first.model_copy(update={"dedupe_key": "k2"})
        assert dead.notify(second) is False
        # a fresh notifier (a restart) does not send what was delivered before
        again = Notifier([SecretStr(receiver.url)], AlertDeliveryLog(pool), wait_max_s=0.1)
        assert again.notify(first) and len(receiver.received) == 1
    with psycopg.connect(fresh_database) as conn:
        rows = conn.execute(
            "SELECT dedupe_key, delivered_at IS NOT NULL, delivery_error FROM alerts ORDER BY dedupe_key"
        ).fetchall()
    assert rows[0][:2] == ("k1", True)
    assert rows[1][0] == "k2" and rows[1][1] is False and "not delivered" in rows[1][2]
