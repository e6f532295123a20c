"""What to do about a failed venue request: errors classified by remedy, in one place.

A 429 or 503 says nothing about the thing asked for, so it must never change state the way a
definite answer does ("this token does not exist"). Three remedies:
- RETRY: transient (no answer at all: timeout or connection error; 429; any 5xx). Ask again later.
- DEFINITE: the venue said the thing does not exist (404 with its not-found text). Act on it.
- REFUSED: any other refusal (other 4xx, a 404 that is not the venue's own answer, e.g. a proxy's
  page). Count and log it, ask again later; never treat it as definite.
"""

from __future__ import annotations

from enum import StrEnum

# The CLOB's not-found answers (POLYMARKET.md §4 errors): `{"error": "<text>"}` with status 404.
_NOT_FOUND_TEXTS = ("no orderbook exists", "market not found")


class Remedy(StrEnum):
    RETRY = "RETRY"
    DEFINITE = "DEFINITE"
    REFUSED = "REFUSED"


def classify(status: int | None, error: str = "") -> Remedy:
    """Remedy for a failed request: `status` None when no answer came (timeout, connection error),
    `error` the venue's `error` text when the body had one."""
    if status is None or status == 429 or status >= 500:
        return Remedy.RETRY
    if status == 404 and any(text in error.lower() for text in _NOT_FOUND_TEXTS):
        return Remedy.DEFINITE
    return Remedy.REFUSED
