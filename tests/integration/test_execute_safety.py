"""`polywindow execute` (LIVE, against the simulator) starts behind its safety net: one trader (a
second refuses naming the holder; the holder beats the lock on its loop), reconciliation before any
intent (a mismatch opens the breaker and every entry is refused, audited, until an operator resets
it) and the collateral allowance check (LIVE says what is missing)."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from py_clob_client_v2.clob_types import AssetType, BalanceAllowanceParams, OrderArgsV2, OrderType
from py_clob_client_v2.config import get_contract_config

from connectors.kafka import EventProducer
from core.enums import KillSwitch, Outcome, WindowPhase
from core.enums import OrderType as CoreOrderType
from core.ids import ConditionId, TokenId, WindowId
from core.models import WindowEvent
from infra import stack
from sinks.postgres.safety import close_breaker, set_kill_switch
from tests.integration.cli import POLYWINDOW, REPO
from tests.integration.execute_harness import (
    allow_instruments,
    intent_for,
    order_row,
    record_window,
    rows,
    sim_orders_of,
    skip_backlog,
)
from tests.integration.safety_venue import client_for, running_sim
from tests.integration.test_execute_kill import as_url
from tests.simulator.conftest import HARDHAT_ADDRESS, HARDHAT_KEY, RunningSim, wait_until

pytestmark = [pytest.mark.stack, pytest.mark.timeout(180)]


def _env(sim: RunningSim, database: str, bootstrap: str, group: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": as_url(database),
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "KAFKA_CLIENT_CONFIG": '{"fetch.wait.max.ms": "1", "session.timeout.ms": "6000"}',
        "POLYWINDOW_CLOB_URL": sim.url,
        "POLY_PRIVATE_KEY": HARDHAT_KEY,
        "POLYWINDOW_EXECUTE_GROUP": group,
        "POLYWINDOW_CONFIRM_S": "5",
        "POLYWINDOW_MAX_POSITION_USD": "1000",
        "POLYWINDOW_EXEC_DAILY_DRAWDOWN_USD": "1000",
    }


class Executor:
    def __init__(
        self,
        sim: RunningSim,
        database: str,
        bootstrap: str,
        extra: dict[str, str] | None = None,
        group: str | None = None,
    ) -> None:
        if group is None:  # else the caller placed the group (skip_backlog) itself
            group = f"execute-{uuid.uuid4().hex[:8]}"
            skip_backlog(bootstrap, group)
        self.env = {**_env(sim, database, bootstrap, group), **(extra or {})}
        self.proc = subprocess.Popen(
            [str(POLYWINDOW), "execute", "--mode", "LIVE"],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=open(os.environ.get("PW_EXEC_LOG", os.devnull), "ab"),  # noqa: SIM115
        )

    def resume(self, db: psycopg.Connection) -> None:
        """LIVE starts paused (audited); once it has, the operator's RESUME lets entries go out."""
        wait_until(
            lambda: (
                rows(db, "SELECT value #>> '{}', updated_by FROM runtime_controls WHERE name = 'kill_switch'")
                == [("PAUSE", "execute:LIVE start")]
            ),
            60,
            "the LIVE executor starting paused",
        )
        set_kill_switch(db, KillSwitch.RUN, "operator", datetime.now(UTC))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)


@pytest.fixture
def db(fresh_database: str) -> Iterator[psycopg.Connection]:
    from sinks.postgres.migrate import migrate

    migrate(fresh_database)
    with psycopg.connect(fresh_database, autocommit=True) as c:
        yield c


def first(conn: psycopg.Connection, sql: str, *args: Any) -> Any:
    found = rows(conn, sql, *args)
    return found[0][0] if found else None


def test_a_second_executor_refuses_naming_the_holder_who_beats_the_lock(
    sim: RunningSim, fresh_database: str, db: psycopg.Connection, endpoints: stack.Endpoints
) -> None:
    holder = Executor(sim, fresh_database, endpoints.kafka_bootstrap)
    try:
        wait_until(
            lambda: first(db, "SELECT holder FROM instance_lock WHERE name = 'trader'") is not None,
            60,
            "the first executor holding the trader lock",
        )
        named = str(first(db, "SELECT holder FROM instance_lock WHERE name = 'trader'"))
        assert named.endswith(f":{holder.proc.pid}:LIVE")
        second = subprocess.run(
            [str(POLYWINDOW), "execute", "--mode", "LIVE"],
            cwd=REPO,
            env=_env(sim, fresh_database, endpoints.kafka_bootstrap, "execute-second"),
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert second.returncode == 2, second.stderr
        assert "is held by" in second.stderr and named in second.stderr
        assert holder.proc.poll() is None, "the holder keeps trading"
        wait_until(
            lambda: bool(
                first(db, "SELECT heartbeat_at > acquired_at FROM instance_lock WHERE name = 'trader'")
            ),
            30,
            "the holder beating the lock on its loop",
        )
    finally:
        holder.stop()
    assert first(db, "SELECT count(*) FROM instance_lock") == 0, "a clean stop gives the lock up"


def test_a_reconciliation_mismatch_at_start_refuses_entries_until_an_operator_resets(
    sim: RunningSim, fresh_database: str, db: psycopg.Connection, endpoints: stack.Endpoints
) -> None:
    allow_btc_5m(db)
    client = client_for(sim)
    stranger = client.post_order(
        client.create_order(OrderArgsV2(token_id=sim.market.down_token_id, price=0.20, size=5.0, side="BUY")),
        OrderType.GTC,
    )["orderID"]
    sim.quote(sim.market.up_token_id, "SELL", "0.50", "1000")
    executor = Executor(sim, fresh_database, endpoints.kafka_bootstrap)
    try:
        wait_until(
            lambda: first(db, "SELECT state FROM breaker_events ORDER BY id DESC LIMIT 1") == "OPEN",
            60,
            "reconciliation at start opening the breaker",
        )
        assert stranger in str(first(db, "SELECT cause FROM breaker_events ORDER BY id DESC LIMIT 1"))
        executor.resume(db)  # the breaker alone refuses now
        producer = EventProducer(endpoints.kafka_bootstrap)
        refused = intent_for(sim, 0, window_id=f"btc-updown-5m-r{uuid.uuid4().hex[:6]}")
        producer.produce("trade.intents", refused)
        producer.flush()
        wait_until(
            lambda: first(db, "SELECT count(*) FROM audit_log WHERE action = 'entry_blocked'") == 1,
            60,
            "the entry refused while the breaker is open, audited",
        )
        detail = first(db, "SELECT detail FROM audit_log WHERE action = 'entry_blocked'")
        assert "breaker_open" in str(detail) and stranger in str(detail)
        assert rows(db, "SELECT 1 FROM orders WHERE client_order_id = %s", refused.client_order_id) == []

        close_breaker(db, "operator", "stranger order cancelled by hand", datetime.now(UTC))
        client.cancel_orders([stranger])
        allowed = intent_for(sim, 1, window_id=f"btc-updown-5m-a{uuid.uuid4().hex[:6]}")
        producer.produce("trade.intents", allowed)
        producer.flush()
        wait_until(
            lambda: (
                bool(rows(db, "SELECT 1 FROM orders WHERE client_order_id = %s", allowed.client_order_id))
                and order_row(db, allowed.client_order_id)[0] == "FILLED"
            ),
            60,
            "the entry after the operator's reset filled",
        )
    finally:
        executor.stop()


def test_live_start_says_which_allowance_is_missing(
    sim: RunningSim, fresh_database: str, db: psycopg.Connection, endpoints: stack.Endpoints
) -> None:
    exchange = get_contract_config(137).exchange_v2
    answer = sim.admin("/allowance", {"address": HARDHAT_ADDRESS, "spender": exchange, "amount": "0"})
    assert answer.status_code == 200
    done = subprocess.run(
        [str(POLYWINDOW), "execute", "--mode", "LIVE"],
        cwd=REPO,
        env=_env(sim, fresh_database, endpoints.kafka_bootstrap, "execute-allowance"),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 2, done.stderr
    assert "LIVE cannot start" in done.stderr and exchange in done.stderr and "approve" in done.stderr
    assert HARDHAT_KEY not in done.stderr + done.stdout
    assert first(db, "SELECT count(*) FROM instance_lock") == 0, "a refused start leaves no lock behind"


def allow_btc_5m(db: psycopg.Connection) -> None:
    allow_instruments(db, "btc-5m")


def test_the_assertions_run_every_tick_and_a_venue_position_not_ours_refuses_the_next_entry(
    sim: RunningSim, fresh_database: str, db: psycopg.Connection, endpoints: stack.Endpoints
) -> None:
    allow_btc_5m(db)
    record_window(db, sim)
    sim.quote(sim.market.up_token_id, "SELL", "0.50", "1000")
    executor = Executor(sim, fresh_database, endpoints.kafka_bootstrap)
    try:
        wait_until(
            lambda: first(db, "SELECT count(DISTINCT name) FROM assertion_results") == 10,
            60,
            "the ten assertions run by the executor",
        )
        executor.resume(db)
        producer = EventProducer(endpoints.kafka_bootstrap)
        entered = intent_for(sim, 0, window_id=f"btc-updown-5m-t{uuid.uuid4().hex[:6]}")
        producer.produce("trade.intents", entered)
        producer.flush()
        wait_until(
            lambda: (
                bool(rows(db, "SELECT 1 FROM orders WHERE client_order_id = %s", entered.client_order_id))
                and order_row(db, entered.client_order_id)[0] == "FILLED"
            ),
            60,
            "the first entry filled",
        )
        ticked = first(db, "SELECT max(id) FROM assertion_results")
        wait_until(
            lambda: first(db, "SELECT max(id) FROM assertion_results") > ticked,
            30,
            "a tick after the fill",
        )
        assert first(db, "SELECT count(*) FROM assertion_results WHERE NOT passed") == 0, rows(
            db, "SELECT name, detail FROM assertion_results WHERE NOT passed"
        )
        assert first(db, "SELECT count(*) FROM breaker_events") == 0

        injected = sim.admin(
            "/balance", {"address": HARDHAT_ADDRESS, "asset": sim.market.up_token_id, "amount": "7"}
        )
        assert injected.status_code == 200, injected.text
        wait_until(
            lambda: first(db, "SELECT state FROM breaker_events ORDER BY id DESC LIMIT 1") == "OPEN",
            30,
            "the breaker opened by the position_count assertion",
        )
        cause = str(first(db, "SELECT cause FROM breaker_events ORDER BY id DESC LIMIT 1"))
        assert cause.startswith("position_count") and "venue 7" in cause
        refused = intent_for(sim, 1, window_id=f"btc-updown-5m-u{uuid.uuid4().hex[:6]}")
        producer.produce("trade.intents", refused)
        producer.flush()
        wait_until(
            lambda: first(db, "SELECT count(*) FROM audit_log WHERE action = 'entry_blocked'") == 1,
            30,
            "the next entry refused while the breaker is open, audited",
        )
        assert "position_count" in str(
            first(db, "SELECT detail FROM audit_log WHERE action = 'entry_blocked'")
        )
        assert rows(db, "SELECT 1 FROM orders WHERE client_order_id = %s", refused.client_order_id) == []
    finally:
        executor.stop()


def test_a_killed_live_executor_leaves_no_resting_order(
    fresh_database: str, db: psycopg.Connection, endpoints: stack.Endpoints
) -> None:
    with running_sim(heartbeat_timeout_s=1.5) as sim:
        allow_btc_5m(db)
        record_window(db, sim)
        sim.quote(sim.market.up_token_id, "SELL", "0.50", "1000")
        executor = Executor(
            sim, fresh_database, endpoints.kafka_bootstrap, {"POLYWINDOW_VENUE_HEARTBEAT_S": "0.3"}
        )
        try:
            wait_until(
                lambda: first(db, "SELECT count(*) FROM instance_lock") == 1, 60, "the executor started"
            )
            executor.resume(db)
            resting = intent_for(sim, 0, price="0.40", window_id=f"btc-updown-5m-h{uuid.uuid4().hex[:6]}")
            resting = resting.model_copy(update={"order_type": CoreOrderType.GTC})
            producer = EventProducer(endpoints.kafka_bootstrap)
            producer.produce("trade.intents", resting)
            producer.flush()
            wait_until(
                lambda: (
                    first(db, "SELECT status FROM orders WHERE client_order_id = %s", resting.client_order_id)
                    in ("LIVE", "UNKNOWN")
                ),  # the confirmation loop (5 s, past the venue's timeout) is over
                60,
                "the GTC entry resting at the venue",
            )
            venue_id = str(
                first(
                    db,
                    "SELECT venue_order_id FROM orders WHERE client_order_id = %s",
                    resting.client_order_id,
                )
            )
            client = client_for(sim)
            assert client.get_order(venue_id)["status"] == "LIVE", "held past the venue's timeout by the beat"
            executor.proc.send_signal(signal.SIGKILL)
            executor.proc.wait(10)
            wait_until(
                lambda: client.get_order(venue_id)["status"] == "CANCELED",
                15,
                "the simulator cancelling the dead executor's resting order",
            )
        finally:
            executor.stop()


def _collateral(client: Any) -> Decimal:
    answer = client.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
    return Decimal(answer["balance"]) / 1_000_000


def test_a_won_position_is_redeemed_after_resolution_and_closes_with_its_payout_in_the_balance(
    sim: RunningSim, fresh_database: str, db: psycopg.Connection, endpoints: stack.Endpoints
) -> None:
    allow_btc_5m(db)
    record_window(db, sim)
    m = sim.market
    sim.quote(m.up_token_id, "SELL", "0.50", "1000")
    client = client_for(sim)
    executor = Executor(sim, fresh_database, endpoints.kafka_bootstrap)
    try:
        wait_until(lambda: first(db, "SELECT count(*) FROM instance_lock") == 1, 60, "the executor started")
        executor.resume(db)
        entry = intent_for(sim, 0)  # on the simulator's market (its window recorded above)
        producer = EventProducer(endpoints.kafka_bootstrap)
        producer.produce("trade.intents", entry)
        producer.flush()
        wait_until(
            lambda: (
                first(db, "SELECT status FROM orders WHERE client_order_id = %s", entry.client_order_id)
                == "FILLED"
            ),
            60,
            "the entry filled",
        )
        after_buy = _collateral(client)
        sim.call(sim.exchange.resolve_market, m.condition_id, m.up_token_id)
        now = datetime.now(UTC)
        producer.produce(
            "md.windows",
            WindowEvent(
                source_ts=now,
                recv_ts=now,
                phase=WindowPhase.RESOLVED,
                window_id=WindowId(m.slug.lower()),
                asset="btc",
                interval_s=300,
                condition_id=ConditionId(m.condition_id),
                up_token_id=TokenId(m.up_token_id),
                down_token_id=TokenId(m.down_token_id),
                start_ts=m.start,
                end_ts=m.end,
                venue_outcome=Outcome.UP,
            ),
        )
        producer.flush()
        wait_until(
            lambda: first(db, "SELECT state FROM positions WHERE window_id = %s", m.slug.lower()) == "CLOSED",
            60,
            "the won position redeemed and closed",
        )
        size, pnl = rows(
            db, "SELECT size, realized_pnl_usd FROM positions WHERE window_id = %s", m.slug.lower()
        )[0]
        assert size == 0
        assert _collateral(client) == after_buy + Decimal(6), "the payout is in the balance"
        assert first(db, "SELECT count(*) FROM audit_log WHERE action = 'redeemed'") == 1
        assert pnl > 0
        ticked = first(db, "SELECT max(id) FROM assertion_results")
        wait_until(lambda: first(db, "SELECT max(id) FROM assertion_results") > ticked, 30, "a tick after")
        assert rows(db, "SELECT cause FROM breaker_events") == [], "the payout was expected (the mark moved)"
    finally:
        executor.stop()


def test_emergency_cancels_every_order_at_the_venue_and_opens_the_breaker(
    sim: RunningSim, fresh_database: str, db: psycopg.Connection, endpoints: stack.Endpoints
) -> None:
    allow_btc_5m(db)
    record_window(db, sim)
    client = client_for(sim)
    sim.quote(sim.market.up_token_id, "SELL", "0.50", "1000")
    executor = Executor(sim, fresh_database, endpoints.kafka_bootstrap)
    try:
        wait_until(lambda: first(db, "SELECT count(*) FROM instance_lock") == 1, 60, "the executor started")
        executor.resume(db)
        resting = intent_for(sim, 0, price="0.40", window_id=f"btc-updown-5m-e{uuid.uuid4().hex[:6]}")
        resting = resting.model_copy(update={"order_type": CoreOrderType.GTC})
        producer = EventProducer(endpoints.kafka_bootstrap)
        producer.produce("trade.intents", resting)
        producer.flush()
        wait_until(
            lambda: (
                first(db, "SELECT status FROM orders WHERE client_order_id = %s", resting.client_order_id)
                in ("LIVE", "UNKNOWN")
            ),
            60,
            "the GTC entry resting at the venue",
        )
        venue_id = str(
            first(db, "SELECT venue_order_id FROM orders WHERE client_order_id = %s", resting.client_order_id)
        )
        set_kill_switch(db, KillSwitch.EMERGENCY, "ops", datetime.now(UTC))
        wait_until(
            lambda: client.get_order(venue_id)["status"] == "CANCELED",
            30,
            "EMERGENCY cancelling at the venue",
        )
        wait_until(
            lambda: (
                first(db, "SELECT cause FROM breaker_events ORDER BY id DESC LIMIT 1")
                == "kill switch EMERGENCY"
            ),
            30,
            "EMERGENCY opening the breaker",
        )
        assert executor.proc.poll() is None, "the executor stays up (exits and the heartbeat go on)"
    finally:
        executor.stop()


def test_flatten_sells_every_held_position_at_the_venue_then_pauses(
    sim: RunningSim, fresh_database: str, db: psycopg.Connection, endpoints: stack.Endpoints
) -> None:
    allow_btc_5m(db)
    record_window(db, sim)
    client = client_for(sim)
    up = sim.market.up_token_id
    sim.quote(up, "SELL", "0.50", "1000")
    executor = Executor(sim, fresh_database, endpoints.kafka_bootstrap)
    try:
        wait_until(lambda: first(db, "SELECT count(*) FROM instance_lock") == 1, 60, "the executor started")
        executor.resume(db)
        entry = intent_for(sim, 0, window_id=f"btc-updown-5m-f{uuid.uuid4().hex[:6]}")
        producer = EventProducer(endpoints.kafka_bootstrap)
        producer.produce("trade.intents", entry)
        producer.flush()
        wait_until(
            lambda: (
                first(db, "SELECT status FROM orders WHERE client_order_id = %s", entry.client_order_id)
                == "FILLED"
            ),
            60,
            "the entry filled",
        )
        sim.quote(up, "BUY", "0.45", "1000")
        set_kill_switch(db, KillSwitch.FLATTEN, "ops", datetime.now(UTC))
        wait_until(
            lambda: (
                first(db, "SELECT value #>> '{}' FROM runtime_controls WHERE name = 'kill_switch'") == "PAUSE"
            ),
            30,
            "FLATTEN carried out, then PAUSE",
        )
        answer = client.get_balance_allowance(
            BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL, token_id=up)
        )
        assert Decimal(answer["balance"]) == 0, "every share held was sold at the venue"
        assert rows(db, "SELECT state, size, exit_reason FROM positions") == [("CLOSED", 0, "FLATTEN")]
        assert rows(db, "SELECT status FROM orders WHERE side = 'SELL'") == [("FILLED",)], "the sell is ours"
        ticked = first(db, "SELECT max(id) FROM assertion_results")
        wait_until(
            lambda: first(db, "SELECT max(id) FROM assertion_results") > ticked,
            30,
            "the assertions ticking after the FLATTEN",
        )
        failing = rows(db, "SELECT name, detail FROM assertion_results WHERE NOT passed AND id > %s", ticked)
        assert failing == [], "position_count and the others pass after a FLATTEN"
        assert rows(db, "SELECT cause FROM breaker_events") == []
    finally:
        executor.stop()


def _committed_to_the_end(bootstrap: str, group: str, topic: str = "trade.intents") -> bool:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        parts = [TopicPartition(topic, p) for p in partitions]
        committed = consumer.committed(parts, timeout=30)
        ends = [consumer.get_watermark_offsets(tp, timeout=30)[1] for tp in parts]
        return all(c.offset == end for c, end in zip(committed, ends, strict=True) if end > 0)
    finally:
        consumer.close()


def test_live_starts_paused_and_places_no_order_for_an_intent_already_on_the_topic_until_resumed(
    sim: RunningSim, fresh_database: str, db: psycopg.Connection, endpoints: stack.Endpoints
) -> None:
    allow_btc_5m(db)
    record_window(db, sim)
    sim.quote(sim.market.up_token_id, "SELL", "0.50", "1000")
    set_kill_switch(db, KillSwitch.RUN, "operator", datetime.now(UTC))  # the flow approved it under RUN
    group = f"execute-{uuid.uuid4().hex[:8]}"
    skip_backlog(endpoints.kafka_bootstrap, group)
    waiting = intent_for(sim, 0, window_id=f"btc-updown-5m-p{uuid.uuid4().hex[:6]}")
    producer = EventProducer(endpoints.kafka_bootstrap)
    producer.produce("trade.intents", waiting)
    producer.flush()
    executor = Executor(sim, fresh_database, endpoints.kafka_bootstrap, group=group)
    try:
        wait_until(
            lambda: first(db, "SELECT count(*) FROM audit_log WHERE action = 'entry_blocked'") == 1,
            60,
            "the waiting intent refused at PAUSE, audited",
        )
        detail = first(db, "SELECT detail FROM audit_log WHERE action = 'entry_blocked'")
        assert "kill_switch" in detail["execution_check"] and "PAUSE" in detail["execution_check"]
        assert rows(db, "SELECT 1 FROM orders") == [] and sim_orders_of(sim, HARDHAT_ADDRESS) == []
        wait_until(
            lambda: _committed_to_the_end(endpoints.kafka_bootstrap, group),
            30,
            "the refused intent's offset committed (decided, not retried)",
        )
        executor.resume(db)
        resumed = intent_for(sim, 1, window_id=f"btc-updown-5m-q{uuid.uuid4().hex[:6]}")
        producer.produce("trade.intents", resumed)
        producer.flush()
        wait_until(
            lambda: (
                first(db, "SELECT status FROM orders WHERE client_order_id = %s", resumed.client_order_id)
                == "FILLED"
            ),
            60,
            "a new intent after RESUME filled",
        )
        assert rows(db, "SELECT 1 FROM orders WHERE client_order_id = %s", waiting.client_order_id) == []
        assert first(db, "SELECT count(*) FROM audit_log WHERE action = 'entry_blocked'") == 1
    finally:
        executor.stop()
