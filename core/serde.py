"""The one serializer for Kafka values: JSON of the versioned models (Decimals as strings)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from core.models import Event
from core.topics import adapter


class DecodeError(ValueError):
    """A value that does not parse as its topic's model; carries the reason for quarantine."""


def encode(event: Event) -> bytes:
    return event.model_dump_json().encode()


def decode(topic_name: str, data: bytes) -> Any:
    """Parse a topic value into its model; raises DecodeError (never a bare pydantic error)."""
    try:
        return adapter(topic_name).validate_json(data)
    except ValidationError as exc:
        raise DecodeError(f"{topic_name}: {exc.error_count()} error(s): {exc.errors()[0]['msg']}") from exc
