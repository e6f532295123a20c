"""Duplicate and out-of-order detection for one feed, by the source's id and the source's time.

The venue and the oracle re-send (initial dumps after a reconnect, duplicated frames); their ids are
stable across re-sends, so a bounded set of recently seen ids drops repeats without growing for
ever. The set holds a 128-bit digest of each id, not the id (about 130 characters for a market
event): a quarter of the memory for a full ring, and a false duplicate is as likely as a 128-bit
collision. Out-of-order is judged per key (a token, a symbol): an event whose `source_ts` is older than
the newest seen for its key. It is counted, not dropped: the consumer (e.g. the order book) decides
what a late event means. Keys are grouped by subject (the token, symbol or window they are about),
so that `forget(subject)` drops every key of a token whose window is over.
"""

from __future__ import annotations

import hashlib
from collections import Counter, OrderedDict
from datetime import datetime
from enum import StrEnum


class Verdict(StrEnum):
    NEW = "NEW"
    DUPLICATE = "DUPLICATE"
    OUT_OF_ORDER = "OUT_OF_ORDER"


class Deduper:
    """Remembers the last `capacity` ids (oldest forgotten first) and the newest source time per key,
    grouped by subject until the subject is forgotten."""

    def __init__(self, capacity: int = 100_000) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._newest: dict[str, dict[str, datetime]] = {}
        self.counts: Counter[Verdict] = Counter()

    def check(
        self, source_id: str | None, key: str, source_ts: datetime, subject: str | None = None
    ) -> Verdict:
        """Classify one event and remember it. An event without an id is never a duplicate.
        `subject` (default: the key itself) is what `forget` drops the key with."""
        if source_id is not None:
            digest = _digest(source_id)
            if digest in self._seen:
                self._seen.move_to_end(digest)
                self.counts[Verdict.DUPLICATE] += 1
                return Verdict.DUPLICATE
            self._seen[digest] = None
            if len(self._seen) > self.capacity:
                self._seen.popitem(last=False)
        keys = self._newest.setdefault(key if subject is None else subject, {})
        newest = keys.get(key)
        if newest is not None and source_ts < newest:
            self.counts[Verdict.OUT_OF_ORDER] += 1
            return Verdict.OUT_OF_ORDER
        keys[key] = source_ts
        self.counts[Verdict.NEW] += 1
        return Verdict.NEW

    def forget(self, subject: str) -> None:
        """Drop the newest times of every key of `subject` (its token or window is over). Its ids
        stay in the bounded ring, so a late re-send is still a duplicate."""
        self._newest.pop(subject, None)

    @property
    def subjects(self) -> int:
        """How many subjects have newest times kept (what `forget` bounds)."""
        return len(self._newest)

    def __len__(self) -> int:
        return len(self._seen)


def _digest(source_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(source_id.encode(), digest_size=16).digest())
