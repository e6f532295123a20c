"""Every alert raised on `ops.alerts` lands in the `alerts` table, whoever raised it.

A process with PostgreSQL at hand (`feeds`) writes its alert rows directly, so an alert survives a
Kafka outage; a process with only Kafka (`record`) raises alerts on the topic alone. This sink
consumes the topic and inserts each alert once: the table's identity (kind, dedupe_key, event_ts,
migration 0004) makes a direct row and its topic copy, or a batch delivered twice, one row.
Offsets are committed only after the rows (at-least-once into an idempotent insert). With a
`deliver` callable (sinks.alerts.Notifier.notify) each stored alert is then sent to the operator's
alert URLs, once per kind and dedupe key. A value that
does not decode is quarantined with its topic, partition and offset, and counted. A database outage
holds the batch and retries it with backoff until the database answers or the sink is stopped; a
commit the group refuses (a rebalance) is counted and covered by the next one.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
import structlog
from confluent_kafka import Consumer, KafkaError, KafkaException, Message

from core.backoff import Backoff
from core.models import Alert, Quarantined
from core.serde import DecodeError, decode

log = structlog.get_logger(__name__)

TOPIC = "ops.alerts"
SOURCE = "sink.alerts"
_INSERT = (
    "INSERT INTO alerts (kind, severity, message, dedupe_key, event_ts) VALUES (%s, %s, %s, %s, %s)"
    " ON CONFLICT (kind, dedupe_key, event_ts) DO NOTHING"
)


def _row(a: Alert) -> tuple[object, ...]:
    return (a.alert_kind, a.severity.value, a.message, a.dedupe_key, a.event_ts)


@dataclass
class AlertSinkStats:
    consumed: int = 0
    inserted: int = 0  # rows new to the table (a copy of a row already there is not counted)
    quarantined: int = 0
    db_failures: int = 0
    commit_failures: int = 0


class AlertTableSink:
    """consume -> insert (idempotent) -> commit, one batch at a time; `step()` is one batch."""

    def __init__(
        self,
        consumer: Consumer,
        database_url: str,
        quarantine: Callable[[Quarantined], None],
        *,
        batch_size: int = 500,
        poll_timeout_s: float = 0.2,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        deliver: Callable[[Alert], object] | None = None,
    ) -> None:
        self.consumer, self.database_url, self.quarantine = consumer, database_url, quarantine
        self.deliver = deliver
        self.batch_size, self.poll_timeout_s = batch_size, poll_timeout_s
        self.backoff = backoff or Backoff(base_s=0.5, cap_s=10.0)
        self.sleep, self.now = sleep, now
        self.stats = AlertSinkStats()
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        consumer.subscribe([TOPIC])

    def step(self, should_stop: Callable[[], bool] = lambda: False) -> int:
        """One batch; returns how many records it consumed. Blocks (retrying) while the database is away."""
        messages = self.consumer.consume(num_messages=self.batch_size, timeout=self.poll_timeout_s)
        alerts: list[Alert] = []
        read = 0
        for msg in messages:
            err = msg.error()
            if err is not None:
                if err.fatal():
                    raise KafkaException(err)
                if err.code() != KafkaError._PARTITION_EOF:
                    log.warning("sink.alerts.consumer_error", error=str(err))
                continue
            read += 1
            alert = self._decode(msg)
            if alert is not None:
                alerts.append(alert)
        self.stats.consumed += read
        if not read:
            return 0
        if alerts and not self._insert(alerts, should_stop):
            return read  # stopped before the database came back: nothing committed, re-read next start
        self._commit()
        if self.deliver is not None:
            for alert in alerts:  # the notifier sends each alert once (by kind and dedupe key), never raises
                self.deliver(alert)
        return read

    def _decode(self, msg: Message) -> Alert | None:
        value = msg.value() or b""
        try:
            event = decode(TOPIC, value)
        except DecodeError as exc:
            reason = str(exc)
        else:
            if isinstance(event, Alert):
                return event
            reason = f"not an alert: {type(event).__name__}"
        self._quarantine(value, reason, msg.partition(), msg.offset())
        return None

    def _quarantine(self, raw: bytes, reason: str, partition: int | None, offset: int | None) -> None:
        self.stats.quarantined += 1
        log.error("sink.alerts.quarantined", partition=partition, offset=offset, reason=reason[:200])
        self.quarantine(
            Quarantined(
                source=SOURCE,
                reason=reason[:500],
                raw=raw,
                topic=TOPIC,
                partition=partition,
                offset=offset,
                recv_ts=self.now(),
            )
        )

    def _insert(self, alerts: list[Alert], should_stop: Callable[[], bool]) -> bool:
        attempt = 0
        while not should_stop():
            try:
                self._write(alerts)
                return True
            except psycopg.OperationalError as exc:
                self.stats.db_failures += 1
                self._drop_connection()
                delay = self.backoff.delay(min(attempt, 10), random.random)
                log.warning("sink.alerts.db_unavailable", error=str(exc)[:200], retry_in_s=round(delay, 2))
                self.sleep(delay)
                attempt += 1
        return False

    def _write(self, alerts: list[Alert]) -> None:
        """The batch in one transaction; if the database refuses its content (not its connection),
        each row alone, and a row it still refuses is quarantined rather than blocking the topic."""
        conn = self._connection()
        try:
            with conn.transaction(), conn.cursor() as cur:
                for alert in alerts:
                    cur.execute(_INSERT, _row(alert))
                    self.stats.inserted += max(cur.rowcount, 0)
            return
        except psycopg.OperationalError:
            raise
        except psycopg.Error:
            pass
        for alert in alerts:
            try:
                with conn.transaction(), conn.cursor() as cur:
                    cur.execute(_INSERT, _row(alert))
                    self.stats.inserted += max(cur.rowcount, 0)
            except psycopg.OperationalError:
                raise
            except psycopg.Error as exc:
                self._quarantine(
                    alert.model_dump_json().encode(), f"refused by the database: {exc}", None, None
                )

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.database_url, connect_timeout=5)
        return self._conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def _commit(self) -> None:
        try:
            self.consumer.commit(asynchronous=False)
        except KafkaException as exc:
            if exc.args[0].fatal():
                raise
            self.stats.commit_failures += 1
            log.warning("sink.alerts.commit_failed", error=str(exc.args[0]))

    def run(self, should_stop: Callable[[], bool]) -> None:
        try:
            while not should_stop():
                self.step(should_stop)
        finally:
            self.close()

    def close(self) -> None:
        self._drop_connection()
        try:
            self.consumer.close()
        except KafkaException as exc:
            log.warning("sink.alerts.close_failed", error=str(exc.args[0]))
