"""The live event stream behind the websocket: a Kafka consumer thread (`KafkaPump`) hands each
decoded event of the streamed topics to a `Broadcaster`, which fans it out to every connected
websocket's bounded queue (a slow client loses its oldest messages and is told how many, it never
holds the others up)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from confluent_kafka import Consumer, KafkaError

from core.serde import DecodeError, decode

__all__ = ["STREAMED_TOPICS", "Broadcaster", "KafkaPump", "Subscription", "pump"]

log = structlog.get_logger(__name__)

STREAMED_TOPICS = (
    "trade.signals",
    "trade.intents",
    "trade.executions",
    "trade.positions",
    "ops.assertions",
)


@dataclass(eq=False)
class Subscription:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str]
    topics: frozenset[str]
    dropped: int = field(default=0)

    def offer(self, message: str) -> None:
        """On the subscriber's loop: queue the message, dropping the oldest when full."""
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(message)


class Broadcaster:
    def __init__(self, per_client: int = 1000) -> None:
        self._per_client = per_client
        self._subs: set[Subscription] = set()
        self._lock = threading.Lock()
        self.published = 0

    def subscribe(self, topics: frozenset[str]) -> Subscription:
        sub = Subscription(asyncio.get_running_loop(), asyncio.Queue(self._per_client), topics)
        with self._lock:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)

    @property
    def clients(self) -> int:
        with self._lock:
            return len(self._subs)

    def publish(self, topic: str, payload: str) -> None:
        """From any thread: `{"topic": ..., "event": {...}}` to every subscriber of `topic`."""
        message = json.dumps({"topic": topic, "event": json.loads(payload)})
        with self._lock:
            targets = [s for s in self._subs if topic in s.topics]
        self.published += 1
        for sub in targets:
            try:
                sub.loop.call_soon_threadsafe(sub.offer, message)
            except RuntimeError:  # its loop is closed: the client is gone
                self.unsubscribe(sub)


def pump(
    consumer: Consumer, should_stop: Callable[[], bool], handle: Callable[[str, bytes], None], name: str
) -> None:
    """Poll `consumer` until `should_stop()`, giving each record's topic and value to `handle`; broker
    errors are logged (end-of-partition is not one) and the consumer is closed at the end."""
    try:
        while not should_stop():
            msg = consumer.poll(0.2)
            if msg is None:
                continue
            err = msg.error()
            if err is not None:
                if err.code() != KafkaError._PARTITION_EOF:
                    log.warning(f"{name}.consumer_error", error=str(err))
                continue
            topic, value = msg.topic(), msg.value()
            if topic is not None and value is not None:
                handle(topic, value)
    finally:
        consumer.close()


class KafkaPump:
    """Consumes the streamed topics from their end (live events only) and broadcasts each one that
    decodes; one that does not is logged and skipped (the stream is a view, the topics keep it)."""

    def __init__(self, consumer: Consumer, broadcaster: Broadcaster) -> None:
        self._consumer, self._broadcaster = consumer, broadcaster
        consumer.subscribe(list(STREAMED_TOPICS))
        self.undecodable = 0

    def run(self, should_stop: Callable[[], bool]) -> None:
        pump(self._consumer, should_stop, self._publish, "api.stream")

    def _publish(self, topic: str, value: bytes) -> None:
        try:
            event = decode(topic, value)
        except DecodeError as exc:
            self.undecodable += 1
            log.warning("api.stream.undecodable", topic=topic, reason=str(exc)[:200])
            return
        self._broadcaster.publish(topic, event.model_dump_json())
