"""Operations events: `ops.assertions`, `ops.alerts`, `ops.quarantine`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from core.enums import BreakerState, Severity
from core.models.base import Event
from core.timestamps import UtcDatetime


class AssertionResult(Event):
    kind: Literal["assertion"] = "assertion"
    name: str = Field(min_length=1)
    passed: bool
    detail: str = ""
    event_ts: UtcDatetime


class BreakerChange(Event):
    """The circuit breaker opened or closed, naming the assertion (or check) that caused it."""

    kind: Literal["breaker"] = "breaker"
    name: Literal["circuit_breaker"] = "circuit_breaker"
    state: BreakerState
    cause: str
    event_ts: UtcDatetime


AssertionEvent = Annotated[AssertionResult | BreakerChange, Field(discriminator="kind")]


class Alert(Event):
    kind: Literal["alert"] = "alert"
    alert_kind: str = Field(min_length=1, pattern=r"^[a-z0-9_.]+$")
    severity: Severity
    message: str
    dedupe_key: str = ""
    event_ts: UtcDatetime


class Quarantined(Event):
    """Input we could not use, kept whole with why, so nothing is lost and it can be replayed."""

    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_bytes="base64", val_json_bytes="base64")

    kind: Literal["quarantine"] = "quarantine"
    source: str = Field(min_length=1)
    reason: str = Field(min_length=1)
    raw: bytes
    topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    recv_ts: UtcDatetime
