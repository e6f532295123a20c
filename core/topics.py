"""The one declared list of Kafka topics: name, partitions, key field, value type.

The local launcher creates these on the embedded cluster; `stack up` ensures them on a real one.
Keys keep everything about one token / window / symbol on one partition, hence one worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from core.models import (
    Alert,
    AssertionEvent,
    BookEvent,
    ControlChange,
    Event,
    ExecutionEvent,
    IntentRejected,
    LastTrade,
    OracleTick,
    OrderIntent,
    PositionUpdate,
    Quarantined,
    Signal,
    SpotEvent,
    WindowEvent,
)


@dataclass(frozen=True)
class TopicSpec:
    """A topic's contract. `key_field` names the value attribute used as the message key."""

    name: str
    partitions: int
    key_field: str
    value_type: Any
    compacted: bool = False
    retention_ms: int | None = None  # None: kept forever (compacted) or the broker's default
    replication_factor: int = 3  # on a real cluster; capped at its broker count (a 1-broker dev cluster)

    def key_of(self, event: Event) -> bytes:
        return str(getattr(event, self.key_field)).encode()


DAY_MS = 86_400_000
# Market data is archived by `record` within minutes (the archive, not the broker, is its memory): two
# days cover a recorder down over a weekend night. Trading and ops topics are kept a week for the
# consumers (sinks, executor, API stream) to catch up after an outage; PostgreSQL keeps them for good.
MD_RETENTION_MS = 2 * DAY_MS
TRADE_RETENTION_MS = 7 * DAY_MS

TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec("md.book", 6, "token_id", BookEvent, retention_ms=MD_RETENTION_MS),
    TopicSpec("md.trades", 3, "token_id", LastTrade, retention_ms=MD_RETENTION_MS),
    TopicSpec("md.oracle", 1, "symbol", OracleTick, retention_ms=MD_RETENTION_MS),
    TopicSpec("md.spot", 1, "symbol", SpotEvent, retention_ms=MD_RETENTION_MS),
    TopicSpec("md.windows", 3, "window_id", WindowEvent, retention_ms=MD_RETENTION_MS),
    TopicSpec("ctl.controls", 1, "name", ControlChange, compacted=True),
    TopicSpec("trade.signals", 3, "window_id", Signal, retention_ms=TRADE_RETENTION_MS),
    TopicSpec("trade.intents", 3, "window_id", OrderIntent, retention_ms=TRADE_RETENTION_MS),
    TopicSpec("trade.rejections", 3, "window_id", IntentRejected, retention_ms=TRADE_RETENTION_MS),
    TopicSpec("trade.executions", 3, "token_id", ExecutionEvent, retention_ms=TRADE_RETENTION_MS),
    TopicSpec("trade.positions", 3, "position_id", PositionUpdate, retention_ms=TRADE_RETENTION_MS),
    TopicSpec("ops.assertions", 1, "name", AssertionEvent, retention_ms=TRADE_RETENTION_MS),
    TopicSpec("ops.alerts", 1, "alert_kind", Alert, retention_ms=TRADE_RETENTION_MS),
    TopicSpec("ops.quarantine", 1, "source", Quarantined, retention_ms=TRADE_RETENTION_MS),
)


def replication_on(spec: TopicSpec, brokers: int) -> int:
    """The declared replication factor, capped at the cluster's size (at least 1)."""
    return max(1, min(spec.replication_factor, brokers))


def topic_config(spec: TopicSpec, brokers: int) -> dict[str, str]:
    """The broker-side settings a real cluster creates the topic with.

    `min.insync.replicas` is 2 wherever there are 3 replicas: with producers at acks=all, a write is
    acknowledged only once two brokers hold it, so losing the leader loses no acknowledged event.
    """
    config = {"cleanup.policy": "compact" if spec.compacted else "delete"}
    config["retention.ms"] = "-1" if spec.retention_ms is None else str(spec.retention_ms)
    replicas = replication_on(spec, brokers)
    config["min.insync.replicas"] = str(2 if replicas >= 3 else 1)
    return config


TOPIC_BY_NAME: dict[str, TopicSpec] = {t.name: t for t in TOPICS}


def topic(name: str) -> TopicSpec:
    """The spec of a declared topic; an undeclared name is a bug (KeyError names it)."""
    try:
        return TOPIC_BY_NAME[name]
    except KeyError:
        raise KeyError(f"undeclared topic {name!r}; declared: {sorted(TOPIC_BY_NAME)}") from None


_ADAPTERS: dict[str, TypeAdapter[Any]] = {t.name: TypeAdapter(t.value_type) for t in TOPICS}


def adapter(name: str) -> TypeAdapter[Any]:
    topic(name)
    return _ADAPTERS[name]
