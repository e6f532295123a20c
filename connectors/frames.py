"""Shared steps of the frame parsers: decode JSON without raising, and name a validation failure."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from core.timestamps import from_ms, from_s

_MS_THRESHOLD = 1_000_000_000_000


def load_json(raw: str | bytes, *, exact_floats: bool = False) -> tuple[Any, str | None]:
    """(value, None) or (None, reason). `exact_floats` parses JSON numbers with a point as Decimal."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        if exact_floats:
            return json.loads(text, parse_float=Decimal), None
        return json.loads(text), None
    except (ValueError, RecursionError) as exc:
        return None, f"malformed JSON: {type(exc).__name__}: {str(exc)[:120]}"


def frame_text(raw: str | bytes) -> str | None:
    """The frame as stripped text, or None when it is not UTF-8."""
    try:
        return (raw.decode("utf-8") if isinstance(raw, bytes) else raw).strip()
    except UnicodeDecodeError:
        return None


def explain(exc: ValidationError, tag: str | None) -> str:
    """A one-line reason from a pydantic error: the event type, then the first failing field."""
    first = exc.errors()[0]
    if first["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return f"unknown event_type {tag!r}" if tag is not None else "no event_type"
    where = ".".join(str(p) for p in first["loc"][1:] if p != tag) or "frame"
    return f"{tag}: {where}: {first['msg']}"


def venue_time(value: int) -> datetime:
    """A venue time in Unix seconds or milliseconds (>= 1e12 means ms; POLYMARKET.md §1)."""
    return from_ms(value) if value >= _MS_THRESHOLD else from_s(value)


def each_item(
    value: Any, convert: Callable[[dict[str, Any]], tuple[list[Any], list[str]]]
) -> tuple[list[Any], list[str]]:
    """Apply `convert` to one object or each object of an array; a bad item rejects only itself."""
    items = value if isinstance(value, list) else [value]
    events: list[Any] = []
    rejects: list[str] = []
    for index, item in enumerate(items):
        prefix = f"item {index}: " if isinstance(value, list) else ""
        if not isinstance(item, dict):
            rejects.append(f"{prefix}not a JSON object: {type(item).__name__}")
            continue
        try:
            got, why = convert(item)
        except ValidationError as exc:
            tag = item.get("event_type")
            got, why = [], [explain(exc, tag if isinstance(tag, str) else None)]
        except (ValueError, TypeError, ArithmeticError) as exc:
            got, why = [], [f"{type(exc).__name__}: {str(exc)[:160]}"]
        events.extend(got)
        rejects.extend(prefix + w for w in why)
    return events, rejects
