"""Kafka clients that speak our topics: keyed, versioned values in, typed events out.

Only the confluent-kafka public API is used, so the same code runs against the embedded mock
cluster and a real Kafka/Redpanda cluster. `embedded=True` sets `fetch.wait.max.ms=1`, because
the mock answers a fetch only when that wait expires (a real broker answers when data arrives).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer

from core.delivery import DeliveryFailure
from core.models import Event
from core.serde import decode, encode
from core.topics import topic

# How long an event may wait for the broker before it is given up and counted as lost. The client's
# default (300 s) hid a broker outage for five minutes and then reported a fraction of it; market
# data minutes late is worthless to a trader anyway. KAFKA_CLIENT_CONFIG can override it.
DELIVERY_TIMEOUT_MS = 10_000


def producer_config(bootstrap: str, client_config: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 0,
        "message.timeout.ms": DELIVERY_TIMEOUT_MS,
        **(client_config or {}),
    }


def consumer_config(
    bootstrap: str, group_id: str, *, embedded: bool, client_config: dict[str, str] | None = None
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap,
        "group.id": group_id,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
    }
    if embedded:
        config["fetch.wait.max.ms"] = 1
        config["session.timeout.ms"] = 6000
    config.update(client_config or {})
    return config


class EventProducer:
    """Produces core events to declared topics, keyed by the topic's key field.

    A delivery failure arrives later, in a callback run by `poll`/`flush`. Each one is counted in
    `delivery_errors` and kept until `take_errors()` hands it over, so a long-running process must
    call `poll()` and `take_errors()` periodically and report what it gets (see DeliveryWatch).

    A full local queue (`BufferError`: the broker is slower than we produce, or unreachable) never
    blocks the caller (a socket loop) and never raises: the queue is served once and the produce
    retried; if it is still full the event is dropped, counted in `queue_full` and reported as a
    delivery failure like any other lost event.
    """

    def __init__(self, bootstrap: str, client_config: dict[str, str] | None = None) -> None:
        self._producer = Producer(producer_config(bootstrap, client_config))
        self._lock = threading.Lock()
        self._errors: list[DeliveryFailure] = []
        self.delivery_errors = 0
        self.queue_full = 0
        self.produced = 0  # handed to the client (queue_full drops excluded)
        self.delivered = 0  # acknowledged by the broker: produced = delivered + failed + in flight
        self.delivered_by_topic: Counter[str] = Counter()
        self.failed_by_topic: Counter[str] = Counter()  # queue_full drops included

    def _on_delivery(self, err: KafkaError | None, msg: Message) -> None:
        name = msg.topic() or "?"
        if err is None:
            with self._lock:
                self.delivered += 1
                self.delivered_by_topic[name] += 1
            return
        failure = DeliveryFailure(topic=name, reason=f"{err.name()}: {err.str()}")
        with self._lock:
            self._errors.append(failure)
            self.delivery_errors += 1
            self.failed_by_topic[name] += 1

    def poll(self, timeout_s: float = 0.0) -> None:
        """Serve pending delivery callbacks."""
        self._producer.poll(timeout_s)

    def in_flight(self) -> int:
        """Events produced and not yet acknowledged or failed."""
        return len(self._producer)

    def take_errors(self) -> list[DeliveryFailure]:
        """The failures not yet handed over, oldest first; each is handed over once."""
        with self._lock:
            errors, self._errors = self._errors, []
        return errors

    def produce(self, topic_name: str, event: Event) -> None:
        spec = topic(topic_name)
        key, value = spec.key_of(event), encode(event)
        try:
            self._producer.produce(spec.name, key=key, value=value, on_delivery=self._on_delivery)
        except BufferError:
            self._producer.poll(0)  # delivery reports served now may free room
            try:
                self._producer.produce(spec.name, key=key, value=value, on_delivery=self._on_delivery)
            except BufferError as exc:
                self._dropped(spec.name, exc)
                return
        with self._lock:
            self.produced += 1
        self._producer.poll(0)

    def _dropped(self, topic_name: str, exc: BufferError) -> None:
        failure = DeliveryFailure(topic=topic_name, reason=f"local queue full, event dropped: {exc}")
        with self._lock:
            self._errors.append(failure)
            self.delivery_errors += 1
            self.failed_by_topic[topic_name] += 1
            self.queue_full += 1

    def flush(self, timeout_s: float = 10.0) -> None:
        """Wait for every delivery; raises if any failed or some are still in flight."""
        remaining = self._producer.flush(timeout_s)
        errors = self.take_errors()
        if errors:
            raise KafkaException(
                KafkaError(KafkaError._MSG_TIMED_OUT if remaining else KafkaError.UNKNOWN, _describe(errors))
            )
        if remaining:
            raise TimeoutError(f"{remaining} message(s) not delivered within {timeout_s}s")

    def close(self, timeout_s: float = 10.0) -> list[DeliveryFailure]:
        """Stop producing: wait up to `timeout_s` for what is queued, give up the rest (purged, so each
        is reported as failed), and hand over every failure not yet taken. After it, every event ever
        produced is either delivered or in a failure the caller reports: none goes uncounted."""
        self._producer.flush(timeout_s)
        self._producer.purge(in_queue=True, in_flight=True, blocking=False)
        self._producer.poll(0)  # serve the purged events' reports
        return self.take_errors()


def _describe(errors: list[DeliveryFailure]) -> str:
    first = errors[0]
    return f"{len(errors)} delivery failure(s), first to {first.topic}: {first.reason}"


def decode_message(msg: Message) -> Any:
    """The event in a consumed message (raises DecodeError for a bad value, KafkaException for an error)."""
    err = msg.error()
    if err is not None:
        raise KafkaException(err)
    value = msg.value()
    topic_name = msg.topic()
    if value is None or topic_name is None:
        raise KafkaException(KafkaError(KafkaError._INVALID_ARG, "message without topic or value"))
    return decode(topic_name, value)


def new_consumer(
    bootstrap: str,
    group_id: str,
    topics: list[str],
    *,
    embedded: bool,
    client_config: dict[str, str] | None = None,
) -> Consumer:
    for name in topics:
        topic(name)
    consumer = Consumer(consumer_config(bootstrap, group_id, embedded=embedded, client_config=client_config))
    consumer.subscribe(topics)
    return consumer
