"""`polywindow flow` end to end on the local stack: md.* events produced onto Kafka, the trading flow
(the command's own construction, in this process) reading them with the `runtime_controls` table,
intents and rejections consumed from trade.intents / trade.rejections.

Windows are placed so that their T-60 s is "now" (the flow reads the table with the wall clock, and
the core refuses controls older than one second by event time); each test uses its own database and
window ids, and a consumer group of its own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from confluent_kafka import Consumer
from psycopg.conninfo import conninfo_to_dict

from connectors.kafka import EventProducer, consumer_config, decode_message
from core.enums import ControlName, KillSwitch
from core.models import ControlChange, IntentRejected, OrderIntent, Signal
from flows.trading import TradingFlowSettings
from flows.trading_io import KafkaInput, build_kafka_flow
from infra.stack import Endpoints
from polywindow.flow_wiring import run_flow
from sinks.postgres.migrate import migrate
from tests.integration.cli import POLYWINDOW, REPO
from tests.trading_builders import book, window

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]

Decision = OrderIntent | IntentRejected


def now() -> datetime:
    return datetime.now(UTC)


def set_control(url: str, name: ControlName, value: object, at: datetime) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE runtime_controls SET value = %s::jsonb, updated_at = %s, updated_by = 'test' WHERE name = %s",
            (json.dumps(value), at, name.value),
        )


@dataclass
class Desk:
    """The running flow, a producer onto md.*, and what came out for this test's windows."""

    producer: EventProducer
    consumer: Consumer
    ours: set[str] = field(default_factory=set)
    decisions: dict[str, Decision] = field(default_factory=dict)
    tokens: dict[str, tuple[str, str]] = field(default_factory=dict)

    def open_window_at_t60(self) -> str:
        """A fresh 5-minute window whose T-60 s is now, announced; returns its id."""
        tag = uuid.uuid4().int % 10**12
        start = now() - timedelta(seconds=241)
        event = window(start=start, window_id=f"btc-updown-5m-test{tag}", up=f"9{tag}1", down=f"9{tag}2")
        self.ours.add(event.window_id)
        self.tokens[event.window_id] = (event.up_token_id, event.down_token_id)
        self.producer.produce("md.windows", event)
        self.producer.flush()
        return event.window_id

    def decide(self, window_id: str, timeout_s: float = 40) -> Decision:
        """Feed the window's books (stamped now) until its canary decision comes out."""
        up, down = self.tokens[window_id]
        deadline = time.monotonic() + timeout_s
        while window_id not in self.decisions:
            if time.monotonic() > deadline:
                raise AssertionError(f"no decision for {window_id} within {timeout_s} s")
            at = now()
            self.producer.produce("md.book", book(down, at, "0.38", "0.40"))
            self.producer.produce("md.book", book(up, at, "0.60", "0.62"))
            self.producer.flush()
            self._read(0.3)
        return self.decisions[window_id]

    def _read(self, wait_s: float) -> None:
        end = time.monotonic() + wait_s
        while time.monotonic() < end:
            msg = self.consumer.poll(0.05)
            if msg is None or msg.error() is not None:
                continue
            event = decode_message(msg)
            if isinstance(event, OrderIntent | IntentRejected) and event.window_id in self.ours:
                self.decisions.setdefault(event.window_id, event)


@pytest.fixture(params=[1])
def running(
    request: pytest.FixtureRequest, endpoints: Endpoints, fresh_database: str
) -> Iterator[tuple[Desk, str]]:
    migrate(fresh_database)
    at = now()
    set_control(fresh_database, ControlName.ALLOWED_INSTRUMENTS, ["btc-5m"], at)
    set_control(fresh_database, ControlName.ALLOWED_STRATEGIES, ["canary"], at)
    set_control(fresh_database, ControlName.KILL_SWITCH, "RUN", at)
    workers, reachable = request.param if isinstance(request.param, tuple) else (request.param, True)
    cfg = KafkaInput(
        bootstrap=endpoints.kafka_bootstrap,
        embedded=endpoints.kafka_embedded,
        database_url=fresh_database if reachable else fresh_database + "_missing",
        market_data_start="end",
        batch_size=100,
        controls_every=timedelta(milliseconds=200),
    )
    stop = threading.Event()
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            run_flow(build_kafka_flow(cfg, TradingFlowSettings(), stop.is_set), workers)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=serve, name="flow", daemon=True)
    thread.start()
    consumer = Consumer(
        consumer_config(
            endpoints.kafka_bootstrap, f"flow-test-{uuid.uuid4().hex[:8]}", embedded=endpoints.kafka_embedded
        )
    )
    consumer.subscribe(["trade.intents", "trade.rejections"])
    desk = Desk(EventProducer(endpoints.kafka_bootstrap), consumer)
    try:
        if reachable:  # caught up: md.windows is read from its beginning, a full run's is long
            _traded_window(desk)
        yield desk, fresh_database
    finally:
        stop.set()
        thread.join(30)
        consumer.close()
    assert not thread.is_alive(), "the flow did not stop"
    assert errors == []


# Two workers here once missed their decision twice inside a full `make test`; not reproduced in
# isolation, nor under CPU load, nor with 3,000 live windows on md.windows. Removed since, as likely
# contributors: every table read went to every live window of the shared broker's md.windows (a
# window now gets the controls with its next market data), and the test decided before the flow had
# caught up with that topic's backlog (the fixture now waits for a first trade).
@pytest.mark.parametrize("running", [1, 2], indirect=True, ids=["1-worker", "2-workers"])
def test_the_canary_at_t60_with_run_and_allowed_controls_becomes_an_intent(running: tuple[Desk, str]) -> None:
    desk, _ = running
    window_id = desk.open_window_at_t60()
    decision = desk.decide(window_id)
    assert isinstance(decision, OrderIntent), decision
    assert decision.strategy == "canary" and decision.mode.value == "DRY_RUN"
    assert decision.context is not None and decision.context.risk_result.startswith("APPROVED")


def test_pause_stops_new_intents_within_one_second_of_the_change(running: tuple[Desk, str]) -> None:
    desk, url = running
    assert isinstance(desk.decide(desk.open_window_at_t60()), OrderIntent)

    changed = now()
    set_control(url, ControlName.KILL_SWITCH, "PAUSE", changed)
    desk.producer.produce(
        "ctl.controls",
        ControlChange(name=ControlName.KILL_SWITCH, value="PAUSE", updated_by="test", updated_at=changed),
    )
    desk.producer.flush()
    later: list[Decision] = []
    deadline = time.monotonic() + 30
    while not later or later[-1].event_ts <= changed + timedelta(seconds=1):
        assert time.monotonic() < deadline, "no decision later than the change + 1 s"
        later.append(desk.decide(desk.open_window_at_t60()))

    late_intents = [
        d for d in later if isinstance(d, OrderIntent) and d.event_ts > changed + timedelta(seconds=1)
    ]
    assert late_intents == []
    last = later[-1]
    assert (
        isinstance(last, IntentRejected)
        and last.rule == "kill_switch"
        and KillSwitch.PAUSE.value in last.detail
    )


@pytest.mark.parametrize("running", [(1, False)], indirect=True, ids=["no-database"])
def test_without_the_controls_table_nothing_is_traded(running: tuple[Desk, str]) -> None:
    """The table is the truth after a start: a database the flow cannot read means no orders."""
    desk, _ = running
    # no trade to wait for here: the decision comes once the flow has read md.windows from its
    # beginning, which on a full run's shared broker is long
    decision = desk.decide(desk.open_window_at_t60(), timeout_s=100)
    assert isinstance(decision, IntentRejected) and decision.rule == "no_controls"


def _db_url(endpoints: Endpoints, conninfo: str) -> str:
    base, _, query = endpoints.database_url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{conninfo_to_dict(conninfo)['dbname']}" + (f"?{query}" if query else "")


def _start_flow(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(POLYWINDOW), "flow", *args],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _count(consumer: Consumer, counts: Counter[tuple[str, str]], wait_s: float) -> None:
    end = time.monotonic() + wait_s
    while time.monotonic() < end:
        msg = consumer.poll(0.05)
        if msg is None or msg.error() is not None:
            continue
        event = decode_message(msg)
        if isinstance(event, OrderIntent):
            counts["intent", event.window_id] += 1
        elif isinstance(event, Signal):
            counts["signal", event.window_id] += 1


def _consumer(endpoints: Endpoints, topics: list[str]) -> Consumer:
    consumer = Consumer(
        consumer_config(
            endpoints.kafka_bootstrap, f"flow-test-{uuid.uuid4().hex[:8]}", embedded=endpoints.kafka_embedded
        )
    )
    consumer.subscribe(topics)
    return consumer


def _traded_window(desk: Desk, within_s: float = 90) -> tuple[str, OrderIntent]:
    """A window the running flow traded. The first ones may meet a flow that has no controls yet, or
    one still reading md.windows from its beginning (a full run's shared broker holds thousands):
    a window left undecided is not a failure until the deadline."""
    deadline = time.monotonic() + within_s
    decision: Decision | None = None
    while time.monotonic() < deadline:
        window_id = desk.open_window_at_t60()
        try:
            decision = desk.decide(window_id, timeout_s=min(30.0, max(deadline - time.monotonic(), 1.0)))
        except AssertionError:
            continue
        if isinstance(decision, OrderIntent):
            return window_id, decision
    raise AssertionError(f"the flow traded nothing within {within_s} s (last decision: {decision})")


@pytest.mark.timeout(360)
def test_a_flow_killed_and_started_again_puts_no_intent_on_trade_intents_twice(
    endpoints: Endpoints, fresh_database: str
) -> None:
    """`polywindow flow` decides a window, is SIGKILLed, and starts again: it rebuilds the window from
    the topics and decides it again on fresh books, with the same id, which must not go out twice."""
    migrate(fresh_database)
    at = now()
    set_control(fresh_database, ControlName.ALLOWED_INSTRUMENTS, ["btc-5m"], at)
    set_control(fresh_database, ControlName.ALLOWED_STRATEGIES, ["canary"], at)
    set_control(fresh_database, ControlName.KILL_SWITCH, "RUN", at)
    env = {
        "DATABASE_URL": _db_url(endpoints, fresh_database),
        "POLYWINDOW_FLOW_CONTROLS_POLL_MS": "200",
        # the shared test broker's md.* backlog (a full run's is tens of MB) is not this test's data
        "POLYWINDOW_FLOW_MARKET_DATA_START": "end",
    }
    desk = Desk(
        EventProducer(endpoints.kafka_bootstrap), _consumer(endpoints, ["trade.intents", "trade.rejections"])
    )
    counter = _consumer(endpoints, ["trade.intents", "trade.signals"])
    counts: Counter[tuple[str, str]] = Counter()
    flow = _start_flow(env)
    try:
        first, decision = _traded_window(desk, within_s=150)
        flow.send_signal(signal.SIGKILL)
        flow.wait(30)

        # Started again from the end of market data (md.windows from its beginning), so the window
        # is known and, once the controls are read, decided again on fresh books: same signal, same id.
        flow = _start_flow(env)
        _traded_window(desk)  # the restarted flow reads its controls and trades
        up, down = desk.tokens[first]
        deadline = time.monotonic() + 60
        while counts["signal", first] < 2:  # the restarted flow decided the window again
            assert time.monotonic() < deadline, "the restarted flow did not decide the window again"
            desk.producer.produce("md.book", book(down, now(), "0.38", "0.40"))
            desk.producer.produce("md.book", book(up, now(), "0.60", "0.62"))
            desk.producer.flush()
            _count(counter, counts, 0.3)
        second = desk.open_window_at_t60()  # decided after the first, on the same worker: out after it
        assert isinstance(desk.decide(second, timeout_s=60), OrderIntent)
        while counts["intent", second] < 1:
            assert time.monotonic() < deadline + 60, "the second window's intent never arrived"
            _count(counter, counts, 0.3)
    finally:
        flow.terminate()
        flow.wait(30)
        desk.consumer.close()
        counter.close()
    assert counts["intent", first] == 1, f"{decision.client_order_id} went out twice"


@pytest.mark.timeout(330)
def test_the_flow_command_with_two_processes_trades_and_stops_on_sigterm(
    endpoints: Endpoints, fresh_database: str
) -> None:
    """`polywindow flow -p 2`: this process starts the second one; SIGTERM stops both, cleanly."""
    migrate(fresh_database)
    at = now()
    set_control(fresh_database, ControlName.ALLOWED_INSTRUMENTS, ["btc-5m"], at)
    set_control(fresh_database, ControlName.ALLOWED_STRATEGIES, ["canary"], at)
    set_control(fresh_database, ControlName.KILL_SWITCH, "RUN", at)
    env = {
        "DATABASE_URL": _db_url(endpoints, fresh_database),
        "POLYWINDOW_FLOW_CONTROLS_POLL_MS": "200",
        "POLYWINDOW_FLOW_MARKET_DATA_START": "end",
    }
    desk = Desk(
        EventProducer(endpoints.kafka_bootstrap), _consumer(endpoints, ["trade.intents", "trade.rejections"])
    )
    flow = _start_flow(env, "-p", "2")
    try:
        _traded_window(desk, within_s=180)
        _traded_window(desk)
    finally:
        flow.terminate()
        code = flow.wait(60)
        desk.consumer.close()
    assert code == 0
