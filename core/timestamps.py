"""UTC, timezone-aware timestamps; naive datetimes are refused at the boundary.

Time is always passed in (the event time of a message), never read from a clock here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def require_utc(value: datetime) -> datetime:
    """Refuse naive datetimes (their zone is a guess) and normalise aware ones to UTC."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"timestamp must be timezone-aware: {value.isoformat()}")
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(require_utc)]


def from_ms(ms: int | str) -> datetime:
    """Unix milliseconds (int or the venue's digit string) -> aware UTC datetime, exactly."""
    return EPOCH + timedelta(milliseconds=int(ms))


def from_s(seconds: int | str) -> datetime:
    """Unix seconds -> aware UTC datetime."""
    return EPOCH + timedelta(seconds=int(seconds))


def to_ms(value: datetime) -> int:
    """Aware datetime -> Unix milliseconds (truncated)."""
    delta = require_utc(value) - EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000
