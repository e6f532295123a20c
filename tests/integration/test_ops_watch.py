"""The operations watcher reads PostgreSQL and raises alerts on ops.alerts; `polywindow sink`'s path
(AlertTableSink + Notifier) stores and delivers them to the webhook (a local HTTP receiver): each
alert kind from real rows, delivered once per episode however often it is found, across a restart
of the watcher too; the daily summary once per UTC day; a query past its statement timeout."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from confluent_kafka import Consumer
from psycopg_pool import ConnectionPool
from pydantic import SecretStr

from connectors.kafka import EventProducer, consumer_config
from core.models import Alert
from sinks.alerts import Notifier
from sinks.ops_watcher import OpsWatcher, WatchLimits
from sinks.postgres.alert_delivery import AlertDeliveryLog
from sinks.postgres.alert_table import AlertTableSink
from sinks.postgres.migrate import migrate
from sinks.postgres.statement_timeout import timeout_pool
from tests.integration.private_kafka import private_kafka
from tests.integration.webhook_receiver import Receiver, webhook_receiver

pytestmark = [pytest.mark.stack, pytest.mark.timeout(180)]

NOW = datetime(2031, 5, 1, 12, tzinfo=UTC)
ORDER_ID = "0x" + "ab" * 32


@dataclass
class Path:
    """What a watcher publishes, through the sink, to the webhook."""

    database_url: str
    pool: ConnectionPool
    receiver: Receiver
    producer: EventProducer
    sink: AlertTableSink
    published: int = 0

    def publish(self, alert: Alert) -> None:
        self.producer.produce("ops.alerts", alert)
        self.producer.flush(10)
        self.published += 1

    def watcher(self, now: Callable[[], datetime], limits: WatchLimits | None = None) -> OpsWatcher:
        return OpsWatcher(self.pool, self.publish, limits or WatchLimits(drawdown_usd=Decimal(50)), now)

    def delivered(self) -> Counter[str]:
        """Steps the sink until it consumed all that was published; the titles the webhook got."""
        deadline = time.monotonic() + 60
        while self.sink.stats.consumed < self.published:
            assert time.monotonic() < deadline, "the sink did not consume what the watcher published"
            self.sink.step()
        return Counter(str(body["title"]) for body in self.receiver.received)


@pytest.fixture
def path(fresh_database: str) -> Iterator[Path]:
    migrate(fresh_database)
    with (
        private_kafka() as kafka,
        webhook_receiver() as receiver,
        ConnectionPool(fresh_database, min_size=1, max_size=3, open=True) as pool,
    ):
        notifier = Notifier([SecretStr(receiver.url)], AlertDeliveryLog(pool), wait_max_s=0.1)
        consumer = Consumer(consumer_config(kafka.bootstrap, "ops-watch", embedded=True))
        sink = AlertTableSink(consumer, fresh_database, lambda q: None, deliver=notifier.notify)
        producer = EventProducer(kafka.bootstrap)
        try:
            yield Path(fresh_database, pool, receiver, producer, sink)
        finally:
            sink.close()
            producer.close(1)


def _sql(url: str, query: str, *params: object) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(query, params)


def _position(url: str, pid: str, pnl: str, closed_at: datetime) -> None:
    _sql(
        url,
        "INSERT INTO positions (position_id, mode, window_id, token_id, strategy, state, size,"
        " realized_pnl_usd, opened_at, closed_at, updated_at)"
        " VALUES (%s, 'DRY_RUN', 'btc-5m-1', 't1', 'canary', 'CLOSED', 0, %s, %s, %s, %s)",
        pid,
        Decimal(pnl),
        closed_at - timedelta(minutes=1),
        closed_at,
        closed_at,
    )


def _checks(watcher: OpsWatcher, times: int) -> None:
    for _ in range(times):
        watcher.check()


def test_a_drawdown_past_the_threshold_reaches_the_webhook_once(path: Path) -> None:
    _position(path.database_url, "p1", "20", NOW - timedelta(hours=3))
    _position(path.database_url, "p2", "-45", NOW - timedelta(hours=2))
    _checks(path.watcher(lambda: NOW), 2)
    assert path.delivered()["[CRITICAL] pnl.drawdown"] == 0  # 45 is not past 50
    _position(path.database_url, "p3", "-10", NOW - timedelta(hours=1))
    _checks(path.watcher(lambda: NOW), 3)
    _checks(path.watcher(lambda: NOW), 2)  # a restarted watcher finds it again: still one delivery
    assert path.delivered()["[CRITICAL] pnl.drawdown"] == 1
    (body,) = [b for b in path.receiver.received if "pnl.drawdown" in b["title"]]
    assert "DRY_RUN: drawdown 55 USD" in body["message"]


def test_an_unknown_order_reaches_the_webhook_once(path: Path) -> None:
    _sql(
        path.database_url,
        "INSERT INTO orders (client_order_id, venue_order_id, mode, window_id, token_id, side, order_type,"
        " price, size, status, detail, created_at, updated_at)"
        " VALUES ('c-9', %s, 'LIVE', 'eth-15m-7', 't1', 'BUY', 'FAK', 0.5, 10, 'UNKNOWN', 'timeout', %s, %s)",
        ORDER_ID,
        NOW,
        NOW,
    )
    watcher = path.watcher(lambda: NOW)
    _checks(watcher, 3)
    _checks(path.watcher(lambda: NOW), 1)
    assert path.delivered()["[CRITICAL] order.unknown"] == 1
    (body,) = [b for b in path.receiver.received if "order.unknown" in b["title"]]
    assert "c-9" in body["message"] and "eth-15m-7" in body["message"]


def test_an_open_feed_gap_and_the_feeds_own_alert_of_it_are_delivered_once(path: Path) -> None:
    started = NOW - timedelta(seconds=30)
    _sql(
        path.database_url,
        "INSERT INTO feed_gaps (feed, started_at, detail) VALUES ('rtds', %s, 'silent')",
        started,
    )
    from core.enums import Severity

    path.publish(  # as connectors.ws_runner raises it when the gap opens
        Alert(
            alert_kind="feed.gap",
            severity=Severity.WARNING,
            message=f"feed rtds: gap since {started.isoformat()} (silent)",
            dedupe_key=f"feed.gap:rtds:{started.isoformat()}",
            event_ts=started + timedelta(seconds=5),
        )
    )
    _checks(path.watcher(lambda: NOW), 3)
    assert path.delivered()["[WARNING] feed.gap"] == 1


def test_a_failing_health_check_is_delivered_once_per_episode(path: Path) -> None:
    clock = [NOW]
    watcher = path.watcher(lambda: clock[0])
    _checks(watcher, 1)
    assert path.delivered()["[CRITICAL] health.failing"] == 0
    _sql(
        path.database_url,
        "INSERT INTO breaker_events (state, cause, event_ts) VALUES ('OPEN', 'position_count: ours 1 venue 2', %s)",
        NOW,
    )
    for _ in range(3):
        clock[0] += timedelta(seconds=10)
        watcher.check()
    assert path.delivered()["[CRITICAL] health.failing"] == 1
    watcher = path.watcher(lambda: clock[0])  # restarted mid-episode: the same episode, read back
    clock[0] += timedelta(seconds=10)
    watcher.check()
    assert path.delivered()["[CRITICAL] health.failing"] == 1
    assert "position_count" in next(b for b in path.receiver.received if "health" in b["title"])["message"]
    _sql(
        path.database_url,
        "INSERT INTO breaker_events (state, cause, event_ts) VALUES ('CLOSED', 'reset', %s)",
        clock[0],
    )
    clock[0] += timedelta(seconds=10)
    watcher.check()
    _sql(
        path.database_url,
        "INSERT INTO breaker_events (state, cause, event_ts) VALUES ('OPEN', 'pnl_match: x', %s)",
        clock[0],
    )
    clock[0] += timedelta(seconds=10)
    _checks(watcher, 2)
    titles = path.delivered()
    assert titles["[CRITICAL] health.failing"] == 2  # a second episode
    assert titles["[INFO] health.recovered"] == 1


def test_database_connections_above_80_percent_are_delivered_once(path: Path) -> None:
    limits = WatchLimits(drawdown_usd=Decimal(50), max_connections=5)
    watcher = path.watcher(lambda: NOW, limits)
    held = [psycopg.connect(path.database_url) for _ in range(4)]  # with the pool's and the sink's: > 4 of 5
    try:
        _checks(watcher, 3)
    finally:
        for conn in held:
            conn.close()
    titles = path.delivered()
    assert titles["[WARNING] db.pool_high"] == 1
    assert "/5 in use" in next(b for b in path.receiver.received if "pool_high" in b["title"])["message"]


def test_the_daily_summary_is_sent_once_per_utc_day(path: Path) -> None:
    _position(path.database_url, "p1", "3.5", datetime(2031, 5, 1, 10, tzinfo=UTC))
    _sql(
        path.database_url,
        "INSERT INTO assertion_results (name, passed, event_ts) VALUES ('pnl_match', true, %s),"
        " ('pnl_match', false, %s)",
        datetime(2031, 5, 1, 10, tzinfo=UTC),
        datetime(2031, 5, 1, 11, tzinfo=UTC),
    )
    clock = [datetime(2031, 5, 2, 0, 0, 5, tzinfo=UTC)]
    watcher = path.watcher(lambda: clock[0])
    _checks(watcher, 2)
    clock[0] = datetime(2031, 5, 2, 18, tzinfo=UTC)
    _checks(watcher, 1)
    _checks(path.watcher(lambda: clock[0]), 1)  # restarted the same day
    assert path.delivered()["[INFO] summary.daily"] == 1
    (body,) = [b for b in path.receiver.received if "summary" in b["title"]]
    assert "2031-05-01" in body["message"] and "realized P&L 3.5 USD" in body["message"]
    assert "assertions 50.00% passed (1/2)" in body["message"]
    clock[0] = datetime(2031, 5, 3, 0, 1, tzinfo=UTC)
    _checks(watcher, 2)
    assert path.delivered()["[INFO] summary.daily"] == 2


def test_a_query_past_its_statement_timeout_is_an_alert_with_its_secrets_redacted(path: Path) -> None:
    with (
        timeout_pool(
            path.database_url, process="feeds", timeout_ms=100, report=path.publish, now=lambda: NOW
        ) as pool,
        pool.connection() as conn,
        pytest.raises(psycopg.errors.QueryCanceled),
    ):
        conn.execute("SELECT pg_sleep(%(s)s) WHERE %(token)s <> ''", {"s": 2, "token": "hunter2-secret"})
    assert path.delivered()["[CRITICAL] db.statement_timeout"] == 1
    (body,) = [b for b in path.receiver.received if "statement_timeout" in b["title"]]
    assert "select pg_sleep" in body["message"] and "100 ms" in body["message"] and "feeds" in body["message"]
    assert "hunter2" not in body["message"]
