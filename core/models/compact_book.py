"""A `BookSnapshot` whose levels stay wire text until something reads them.

A replay decodes tens of thousands of 20-level books, and a strategy reads the levels of only a few
of them (the canary looks at the book in the last minute of a window; a snapshot replaced by the
next one before anyone looked is never read at all). `core.serde.decode_compact` checks the whole
value against the model's rules when it decodes it, so every level here is already known to be a
valid price and size; only turning the text into Decimals waits until `level_pairs` / `bids` /
`asks` is first called. Money stays exact: each Decimal is made from the wire string, as
`core.money.parse_decimal` does. `to_model()` is the pydantic `BookSnapshot` it stands for.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import ClassVar, Literal

from core.enums import BookSide
from core.ids import ConditionId, TokenId
from core.models.market import BookSnapshot, Level

__all__ = ["CompactBookSnapshot"]

_LEVEL = re.compile(r'"price":"([^"]*)","size":"([^"]*)"')

LevelPairs = list[tuple[Decimal, Decimal]]


class CompactBookSnapshot:
    """The fields of `BookSnapshot` (same names, same meaning); `bids_text`/`asks_text` are the
    already validated JSON arrays of `{"price": ..., "size": ...}` objects, best first as sent.
    Never changed after construction (slots, no setters used anywhere): treat it as frozen."""

    __slots__ = (
        "_parsed",
        "asks_text",
        "bids_text",
        "book_hash",
        "condition_id",
        "recv_ts",
        "source_id",
        "source_ts",
        "tick_size",
        "token_id",
    )
    kind: ClassVar[Literal["book"]] = "book"
    schema_version: ClassVar[Literal[1]] = 1

    def __init__(
        self,
        *,
        source_ts: datetime,
        recv_ts: datetime,
        source_id: str | None,
        token_id: TokenId,
        condition_id: ConditionId,
        bids_text: str,
        asks_text: str,
        tick_size: Decimal | None,
        book_hash: str | None,
    ) -> None:
        self.source_ts = source_ts
        self.recv_ts = recv_ts
        self.source_id = source_id
        self.token_id = token_id
        self.condition_id = condition_id
        self.bids_text = bids_text
        self.asks_text = asks_text
        self.tick_size = tick_size
        self.book_hash = book_hash
        self._parsed: tuple[LevelPairs, LevelPairs] | None = None

    def level_pairs(self, side: BookSide) -> LevelPairs:
        """One side's (price, size) pairs in served order, parsed once from the wire strings."""
        if self._parsed is None:
            self._parsed = (_pairs(self.bids_text), _pairs(self.asks_text))
        return self._parsed[0] if side is BookSide.BID else self._parsed[1]

    @property
    def bids(self) -> tuple[Level, ...]:
        return tuple(Level(price=p, size=s) for p, s in self.level_pairs(BookSide.BID))

    @property
    def asks(self) -> tuple[Level, ...]:
        return tuple(Level(price=p, size=s) for p, s in self.level_pairs(BookSide.ASK))

    def to_model(self) -> BookSnapshot:
        """The pydantic model this value stands for (what `core.serde.decode` gives)."""
        return BookSnapshot(
            source_ts=self.source_ts,
            recv_ts=self.recv_ts,
            source_id=self.source_id,
            token_id=self.token_id,
            condition_id=self.condition_id,
            bids=self.bids,
            asks=self.asks,
            tick_size=self.tick_size,
            book_hash=self.book_hash,
        )

    def __repr__(self) -> str:
        return f"CompactBookSnapshot(token_id={self.token_id!r}, source_ts={self.source_ts.isoformat()})"


def _pairs(text: str) -> LevelPairs:
    return [(Decimal(price), Decimal(size)) for price, size in _LEVEL.findall(text)]
