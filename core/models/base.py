"""Base classes of every topic value: frozen, versioned, strict about unknown keys."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from core.timestamps import UtcDatetime


class Event(BaseModel):
    """A Kafka topic value. `schema_version` lets a consumer refuse a shape it does not know."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)

    schema_version: Literal[1] = 1


class MarketEvent(Event):
    """Market data as received: the source's own time, our receive time and the source's id.

    `source_id` is what de-duplication keys on (a trade id, a book hash, an oracle observation key);
    None where the source gives no id.
    """

    source_ts: UtcDatetime
    recv_ts: UtcDatetime
    source_id: str | None = None
