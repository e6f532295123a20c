"""The one serializer for Kafka values: JSON of the versioned models (Decimals as strings).

`decode_compact` is `decode` for the trading flow's hot path: an `md.book` snapshot in the exact
form `encode` writes is checked by one regular expression instead of pydantic and comes back as a
`CompactBookSnapshot` (levels parsed when first read). Every other value, and any snapshot in
another form (other key order, whitespace, numbers instead of strings, exponents), goes through
pydantic, so both accept and refuse the same values (tests/unit/test_serde_fast.py proves it).
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from core.ids import ConditionId, TokenId
from core.models import CompactBookSnapshot, Event
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


# The canonical JSON of a BookSnapshot, field by field in model order. A price is a plain decimal in
# [0, 1] (0, 0.x, 1, 1.000), a size a plain non-negative decimal: both exactly what
# `core.money.Price` / `Size` accept, and Decimal(text) is what `parse_decimal` makes of them.
# Atomic groups and possessive repeats keep the 20-level sides from backtracking.
_PRICE = r"(?>0(?:\.[0-9]++)?|1(?:\.0++)?)"
_SIZE = r"[0-9]++(?:\.[0-9]++)?"
_LEVEL = r'\{"price":"' + _PRICE + r'","size":"' + _SIZE + r'"\}'
_SIDE = r"\[(?>" + _LEVEL + r"(?>," + _LEVEL + r")*+)?\]"
_TS = r'"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?Z)"'
_TEXT = r'(null|"[^"\\\x00-\x1f]*+")'  # a JSON string without escapes, or null
_BOOK = re.compile(
    r'\{"schema_version":1,"source_ts":' + _TS + r',"recv_ts":' + _TS + r',"source_id":' + _TEXT
    + r',"kind":"book","token_id":"([0-9]{1,78})","condition_id":"(0x[0-9a-fA-F]{64})"'
    + r',"bids":(' + _SIDE + r'),"asks":(' + _SIDE + r'),"tick_size":(null|"' + _PRICE + r'")'
    + r',"book_hash":' + _TEXT + r"\}"
)  # fmt: skip


def _text(group: str) -> str | None:
    return None if group == "null" else group[1:-1]


def _fast_book(data: bytes) -> CompactBookSnapshot | None:
    """The snapshot when `data` is in canonical form, else None (pydantic then decides)."""
    try:
        match = _BOOK.fullmatch(data.decode())
        if match is None:
            return None
        source_ts, recv_ts, source_id, token, condition, bids, asks, tick, book_hash = match.groups()
        return CompactBookSnapshot(
            source_ts=datetime.fromisoformat(source_ts),
            recv_ts=datetime.fromisoformat(recv_ts),
            source_id=_text(source_id),
            token_id=TokenId(token),
            condition_id=ConditionId(condition),
            bids_text=bids,
            asks_text=asks,
            tick_size=None if tick == "null" else Decimal(tick[1:-1]),
            book_hash=_text(book_hash),
        )
    except ValueError:  # not UTF-8, or a date fromisoformat refuses: pydantic decides
        return None


def decode_compact(topic_name: str, data: bytes) -> Any:
    """`decode`, but an `md.book` snapshot in `encode`'s own form comes back as a
    `CompactBookSnapshot` without pydantic; raises DecodeError exactly where `decode` does."""
    if topic_name == "md.book" and data[:1] == b"{":
        book = _fast_book(data)
        if book is not None:
            return book
    return decode(topic_name, data)
