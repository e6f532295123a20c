"""The ten runtime assertions in BACKTEST: `polywindow execute --mode BACKTEST` runs them on the
replay's event time (every second of it, not of the wall clock) and stores them under the run id,
apart from live trading's (/health, the breaker and the daily summary never read them). A backtest
of a few windows passes all ten at every tick; one with an order outside the replay's instruments
fails `instrument_scope`, naming it, without opening the live breaker."""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from connectors.kafka import EventProducer
from core.assertions import ASSERTION_NAMES
from core.enums import KillSwitch, OrderType, Outcome, Side, TradingMode
from core.fees import FeeSchedule
from core.intents import client_order_id_for, signal_id_for
from core.models import DecisionContext, Level, OrderIntent, Signal
from execution.assertion_runner import ReplayClock, backtest_runner
from execution.executor_safety import ExecutorSafety
from execution.tick_snapshot import ExecutorSnapshot
from infra import stack
from polywindow.execution_wiring import FixedMarket, build_manager
from sinks.postgres.assertion_table import LatestResult, latest_results, read_breaker, run_results
from sinks.postgres.migrate import migrate
from sinks.postgres.safety import set_kill_switch
from tests.integration.cli import POLYWINDOW, REPO
from tests.integration.feeds_harness import wait_for
from tests.integration.test_feeds_command import as_url

pytestmark = [pytest.mark.stack, pytest.mark.timeout(240)]

D = Decimal
T0 = datetime(2026, 9, 28, 10, 30, tzinfo=UTC)  # a replayed day: far from the wall clock


def _intent(asset: str, start: datetime, token: str) -> OrderIntent:
    window = f"{asset}-updown-5m-{int(start.timestamp())}"
    at = start + timedelta(seconds=240)
    sid = signal_id_for(window, "canary", 0)
    signal = Signal(
        signal_id=sid,
        window_id=window,
        strategy="canary",
        token_id=token,
        outcome=Outcome.UP,
        side=Side.BUY,
        limit_price=D("0.60"),
        notional_usd=D("1.20"),
        event_ts=at,
    )
    context = DecisionContext(
        up_asks=(Level(price=D("0.60"), size=D("100")),),
        signal=signal,
        risk_result="APPROVED FAK 2 @ 0.60",
        controls_version=1,
        event_ts=at,
    )
    return OrderIntent(
        client_order_id=client_order_id_for(sid),
        signal_id=sid,
        window_id=window,
        strategy="canary",
        token_id=token,
        side=Side.BUY,
        order_type=OrderType.FAK,
        limit_price=D("0.60"),
        size=D("2"),
        mode=TradingMode.BACKTEST,
        event_ts=at,
        context=context,
    )


def _backtest(database: str, run_id: str, intents: Sequence[OrderIntent]) -> list[LatestResult]:
    """The executor's BACKTEST parts wired as `polywindow execute --mode BACKTEST` wires them, its
    loop (a safety tick, then the next intent) turned by hand."""
    with (
        psycopg.connect(database, autocommit=True) as conn,
        ConnectionPool(database, min_size=1, max_size=1, open=True) as pool,
    ):
        set_kill_switch(conn, KillSwitch.RUN, "operator", datetime.now(UTC))  # the executor enforces it
        replay = ReplayClock()
        safety = ExecutorSafety(conn, replay.now, monotonic=replay.seconds)
        manager = build_manager(
            TradingMode.BACKTEST,
            conn,
            market=FixedMarket(D("0.01"), FeeSchedule(D("0.07"))),
            run_id=run_id,
            gate=safety.gate,
        )
        manager.start()
        manager.clock = replay.follow(manager.clock)
        records = ExecutorSnapshot(
            conn,
            TradingMode.BACKTEST,
            replay.now,
            lambda: safety.heartbeat_at,
            manager.balance,
            D(5),
            run_id=run_id,
        )
        safety.assertions = backtest_runner(replay, records.snapshot, pool, run_id)
        for intent in intents:
            safety.tick()
            assert manager.execute(intent).status == "FILLED"
        safety.tick()
        return run_results(conn, run_id)


def test_a_backtest_of_three_windows_stores_its_assertions_on_event_time_all_passing(
    fresh_database: str,
) -> None:
    migrate(fresh_database)
    starts = [T0 + timedelta(minutes=5 * i) for i in range(3)]
    results = _backtest(
        fresh_database, "bt-pass", [_intent("btc", s, f"70{i}") for i, s in enumerate(starts)]
    )
    ticks = sorted({r.event_ts for r in results})
    assert ticks == [s + timedelta(seconds=240) for s in starts], (
        "one tick per second of event time that passed"
    )
    assert [r.name for r in results] == list(ASSERTION_NAMES) * 3
    assert all(r.passed for r in results), [(r.name, r.detail) for r in results if not r.passed]
    with psycopg.connect(fresh_database) as conn:
        assert latest_results(conn) == [], "live trading's results are not a backtest's"


def test_a_backtest_with_an_order_outside_its_instruments_fails_instrument_scope(fresh_database: str) -> None:
    migrate(fresh_database)
    intents = [_intent("btc", T0, "801"), _intent("doge", T0 + timedelta(minutes=5), "802")]
    results = _backtest(fresh_database, "bt-fail", intents)
    failed = [r for r in results if not r.passed]
    assert {r.name for r in failed} == {"instrument_scope"}
    assert all("doge-5m" in r.detail for r in failed)
    assert failed[0].event_ts == T0 + timedelta(minutes=5, seconds=240), "on the replay's clock"
    with psycopg.connect(fresh_database) as conn:
        assert read_breaker(conn).state.value != "OPEN", "a backtest never opens the live breaker"


def test_polywindow_execute_in_backtest_stores_a_runs_assertions_on_its_event_time(
    endpoints: stack.Endpoints, fresh_database: str
) -> None:
    """The same through the command: intents on trade.intents, `execute --mode BACKTEST --run-id`."""
    migrate(fresh_database)
    run_id = f"bt-{uuid.uuid4().hex[:8]}"
    base = T0 - timedelta(days=random.randrange(1, 3000), minutes=T0.minute)  # windows of our own
    starts = [base + timedelta(minutes=5 * i) for i in range(2)]
    producer = EventProducer(endpoints.kafka_bootstrap)
    for i, start in enumerate(starts):
        producer.produce("trade.intents", _intent("eth", start, f"90{i}"))
    producer.close(10)
    env = {
        **os.environ,
        "DATABASE_URL": as_url(endpoints.database_url, fresh_database),
        "POLYWINDOW_EXECUTE_GROUP": f"execute-{run_id}",  # from the earliest: our intents are on the topic
    }
    proc = subprocess.Popen(
        [str(POLYWINDOW), "execute", "--mode", "BACKTEST", "--run-id", run_id],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    results: list[LatestResult] = []
    try:
        with psycopg.connect(fresh_database, autocommit=True) as conn:
            with contextlib.suppress(AssertionError):  # said below, with the command's output
                wait_for(lambda: len(run_results(conn, run_id)) >= 10, 120, "the run's assertion results")
            results = run_results(conn, run_id)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=60)
    assert len(results) >= 10 and proc.returncode == 0, out[-3000:]
    # a tick after each batch of intents the consumer took (both may come in one), on their event time
    decided = [s + timedelta(seconds=240) for s in starts]
    assert {r.event_ts for r in results} <= set(decided) and results[-1].event_ts == decided[-1]
    assert all(r.passed for r in results), [(r.name, r.detail) for r in results if not r.passed]
