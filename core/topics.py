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

    def key_of(self, event: Event) -> bytes:
        return str(getattr(event, self.key_field)).encode()


TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec("md.book", 6, "token_id", BookEvent),
    TopicSpec("md.trades", 3, "token_id", LastTrade),
    TopicSpec("md.oracle", 1, "symbol", OracleTick),
    TopicSpec("md.spot", 1, "symbol", SpotEvent),
    TopicSpec("md.windows", 3, "window_id", WindowEvent),
    TopicSpec("ctl.controls", 1, "name", ControlChange, compacted=True),
    TopicSpec("trade.signals", 3, "window_id", Signal),
    TopicSpec("trade.intents", 3, "window_id", OrderIntent),
    TopicSpec("trade.rejections", 3, "window_id", IntentRejected),
    TopicSpec("trade.executions", 3, "token_id", ExecutionEvent),
    TopicSpec("trade.positions", 3, "position_id", PositionUpdate),
    TopicSpec("ops.assertions", 1, "name", AssertionEvent),
    TopicSpec("ops.alerts", 1, "alert_kind", Alert),
    TopicSpec("ops.quarantine", 1, "source", Quarantined),
)

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
