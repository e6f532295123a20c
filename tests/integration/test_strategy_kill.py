"""The kill criterion (issue 14, seed 3.2): a registered strategy whose settled windows meet its
pre-registered kill criterion is paused through the control path (allowed_strategies, audited,
published on ctl.controls) with one alert, delivered once to the operator's webhook (a local HTTP
receiver). In a replay (`polywindow strategy backtest`, real fixture books) and in the watcher
(settled live positions in PostgreSQL)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from confluent_kafka import Consumer
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool
from pydantic import SecretStr
from typer.testing import CliRunner

from connectors.kafka import consumer_config
from core.models import Alert, ControlChange
from infra.stack import Endpoints
from polywindow.cli import app
from sinks.alerts import Notifier
from sinks.ops_watcher import OpsWatcher, WatchLimits
from sinks.postgres.alert_delivery import AlertDeliveryLog
from sinks.postgres.alert_table import AlertTableSink
from sinks.postgres.migrate import migrate
from tests.fixture_archive import write_fixture_archive
from tests.integration.private_kafka import PrivateKafka, private_kafka
from tests.integration.webhook_receiver import Receiver, webhook_receiver

pytestmark = [pytest.mark.stack, pytest.mark.timeout(300)]

FROM = datetime(2026, 9, 28, 9, 30, tzinfo=UTC)
TO = datetime(2026, 9, 28, 10, 15, tzinfo=UTC)  # the canary at T-240 s loses the second window
REGISTRATION = {
    "strategy": "canary",
    "params": {"seconds_before_close": 240, "notional_usd": "2"},
    "risk": {"max_position_usd": "5"},
    "instruments": ["btc-15m"],
    "expectation": {
        "win_rate_low": "0.55",
        "win_rate_high": "0.8",
        "kill": {"min_windows": 5, "min_win_rate": "0.5", "max_loss_usd": "1"},
        "scale_up": {"min_windows": 50, "min_win_rate": "0.6", "min_pnl_usd": "5"},
    },
}


@pytest.fixture
def kafka() -> Iterator[PrivateKafka]:
    with private_kafka() as cluster:
        yield cluster


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as found:
        yield found


def _url(endpoints: Endpoints, conninfo: str) -> str:
    base, _, query = endpoints.database_url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{conninfo_to_dict(conninfo)['dbname']}" + (f"?{query}" if query else "")


def _allow(database: str, strategies: list[str]) -> None:
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(
            "UPDATE runtime_controls SET value = %s::jsonb, updated_by = 'test' WHERE name = 'allowed_strategies'",
            (json.dumps(strategies),),
        )


def _allowed(database: str) -> list[str]:
    with psycopg.connect(database) as conn:
        row = conn.execute("SELECT value FROM runtime_controls WHERE name = 'allowed_strategies'").fetchone()
    assert row is not None
    return list(row[0])


def _topic(bootstrap: str, topic: str, group: str, want: int) -> list[bytes]:
    """What the topic holds, read from the start until `want` records came (or 15 s passed)."""
    consumer = Consumer({**consumer_config(bootstrap, group, embedded=True), "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    got: list[bytes] = []
    deadline = time.monotonic() + 15
    try:
        while time.monotonic() < deadline and len(got) < want + 1:
            msg = consumer.poll(0.2)
            value = msg.value() if msg is not None and msg.error() is None else None
            if value is not None:
                got.append(value)
            elif msg is None and len(got) >= want:
                break
    finally:
        consumer.close()
    return got


def _deliver(bootstrap: str, database: str, receiver: Receiver, expected: int) -> None:
    """The sink as `polywindow sink` runs it: ops.alerts into the table, each delivered once."""
    with ConnectionPool(database, min_size=1, max_size=2, open=True) as pool:
        notifier = Notifier([SecretStr(receiver.url)], AlertDeliveryLog(pool), wait_max_s=0.1)
        consumer = Consumer(consumer_config(bootstrap, "alerts-delivery", embedded=True))
        sink = AlertTableSink(consumer, database, lambda q: None, deliver=notifier.notify)
        deadline = time.monotonic() + 60
        while sink.stats.consumed < expected:
            assert time.monotonic() < deadline, f"the sink consumed {sink.stats.consumed} of {expected}"
            sink.step()
        sink.close()


def test_a_kill_criterion_met_in_a_replay_pauses_the_strategy_and_raises_one_alert(
    endpoints: Endpoints, fresh_database: str, kafka: PrivateKafka, receiver: Receiver, tmp_path: Path
) -> None:
    migrate(fresh_database)
    _allow(fresh_database, ["canary", "oracle_momentum"])
    write_fixture_archive(tmp_path / "archive", FROM, TO, outcomes=True)
    (tmp_path / "canary.json").write_text(json.dumps(REGISTRATION))
    env = {
        "DATABASE_URL": _url(endpoints, fresh_database),
        "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap,
        "POLYWINDOW_ARCHIVE_DIR": str(tmp_path / "archive"),
    }
    runner = CliRunner()
    registered = runner.invoke(
        app, ["strategy", "register", str(tmp_path / "canary.json"), "--who", "test"], env=env
    )
    assert registered.exit_code == 0 and "registered canary@v1" in registered.output, registered.output

    args = ["strategy", "backtest", "canary", "--from", "2026-09-28T09:00Z", "--to", "2026-09-28T10:20Z"]
    first = runner.invoke(app, args, env=env)
    assert first.exit_code == 1, first.output
    assert "kill criterion met after 2 settled window(s)" in first.output and "paused" in first.output
    assert _allowed(fresh_database) == ["oracle_momentum"]
    again = runner.invoke(app, args, env=env)  # met again: already recorded, nothing paused or raised twice
    assert again.exit_code == 1 and "already recorded" in again.output, again.output

    with psycopg.connect(fresh_database) as conn:
        audited = conn.execute(
            "SELECT actor, detail->>'to' FROM audit_log WHERE action = 'control.set' AND subject = 'allowed_strategies'"
        ).fetchall()
        kills = conn.execute("SELECT version, mode, settled_windows, paused FROM strategy_kills").fetchall()
    assert audited == [("strategy-kill", '["oracle_momentum"]')]
    assert kills == [(1, "BACKTEST", 2, True)]
    [published] = _topic(kafka.bootstrap, "ctl.controls", "kill-test-controls", 1)
    change = ControlChange.model_validate_json(published)
    assert (change.name.value, change.value, change.updated_by) == (
        "allowed_strategies",
        '["oracle_momentum"]',
        "strategy-kill",
    )

    _deliver(kafka.bootstrap, fresh_database, receiver, expected=1)
    assert len(receiver.received) == 1
    assert "canary@v1 paused" in receiver.received[0]["message"]


def test_the_watcher_pauses_a_strategy_whose_settled_live_windows_meet_its_kill_criterion(
    fresh_database: str, tmp_path: Path
) -> None:
    migrate(fresh_database)
    _allow(fresh_database, ["canary"])
    from core.strategy_review import Registration
    from sinks.postgres.strategy_registry import register

    now = datetime.now(UTC)
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        register(conn, Registration.model_validate(REGISTRATION), "test", now - timedelta(hours=1))
        for i, pnl in enumerate(["0.05", "-0.6", "-0.5"]):  # -1.05 after the third settled window
            at = now - timedelta(minutes=50 - 15 * i)
            conn.execute(
                "INSERT INTO positions (position_id, mode, window_id, token_id, strategy, state, size,"
                " realized_pnl_usd, opened_at, closed_at, updated_at)"
                " VALUES (%s, 'LIVE', %s, '1', 'canary', 'CLOSED', 2, %s, %s, %s, %s)",
                (f"p{i}", f"w{i}", pnl, at, at + timedelta(minutes=5), at + timedelta(minutes=5)),
            )
    alerts: list[Alert] = []
    changes: list[ControlChange] = []
    with ConnectionPool(fresh_database, min_size=1, max_size=2, open=True) as pool:
        watcher = OpsWatcher(
            pool, alerts.append, WatchLimits(drawdown_usd=Decimal(100)), lambda: now, changes.append
        )
        watcher.check()
        watcher.check()
    killed = [a for a in alerts if a.alert_kind == "strategy.killed"]
    assert [a.dedupe_key for a in killed] == ["canary@v1/LIVE"]
    assert [c.value for c in changes] == ["[]"]
    assert _allowed(fresh_database) == []
