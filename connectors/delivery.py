"""Makes Kafka delivery failures visible while a producer runs, not only at its final flush."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

import structlog

from connectors.kafka import EventProducer
from core.delivery import delivery_alert, delivery_counts
from core.models import Alert

log = structlog.get_logger(__name__)


class AlertStore(Protocol):
    """Where alerts are recorded (sinks.postgres.ops.OpsWriter)."""

    def record_alert(self, alert: Alert) -> None: ...


class DeliveryWatch:
    """Polls the producer and turns the failures it reports into log lines, an alert event and a row.

    Call `check()` periodically from a worker thread (it writes to the database). The alert event
    goes through the same producer: if that one fails too, the next check reports it."""

    def __init__(self, producer: EventProducer, store: AlertStore, now: Callable[[], datetime]) -> None:
        self.producer = producer
        self.store = store
        self.now = now
        self.reported = 0

    def check(self) -> Alert | None:
        self.producer.poll(0)
        failures = self.producer.take_errors()
        alert = delivery_alert(failures, self.now())
        if alert is None:
            return None
        self.reported += len(failures)
        for (topic, reason), count in delivery_counts(failures).items():
            log.error("kafka.delivery_failed", topic=topic, reason=reason, count=count)
        self.producer.produce("ops.alerts", alert)
        self.store.record_alert(alert)
        return alert
