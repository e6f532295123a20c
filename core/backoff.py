"""Reconnect delays: exponential backoff with full jitter (AWS architecture blog's "full jitter").

Full jitter spreads reconnecting clients uniformly over [0, cap], so a venue restart is not met by a
thundering herd at fixed instants. Randomness is an argument (`random_fn` returning [0, 1)), so
tests and replays choose it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime


@dataclass(frozen=True)
class Backoff:
    """`base_s * factor**attempt`, capped at `cap_s`; the delay is drawn uniformly below that ceiling."""

    base_s: float = 0.25
    cap_s: float = 30.0
    factor: float = 2.0

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.cap_s < self.base_s or self.factor < 1:
            raise ValueError(f"need 0 < base_s <= cap_s and factor >= 1, got {self}")

    def ceiling(self, attempt: int) -> float:
        """The largest delay of attempt `attempt` (0 = the first retry)."""
        if attempt < 0:
            raise ValueError(f"attempt must be >= 0, got {attempt}")
        # Cap the exponent first so a long outage cannot overflow the float.
        exponent = min(attempt, 64)
        return float(min(self.cap_s, self.base_s * self.factor**exponent))

    def delay(self, attempt: int, random_fn: Callable[[], float]) -> float:
        """A delay in [0, ceiling(attempt)); `random_fn` must return a float in [0, 1)."""
        draw = random_fn()
        if not 0.0 <= draw < 1.0:
            raise ValueError(f"random_fn must return a value in [0, 1), got {draw}")
        return draw * self.ceiling(attempt)


def retry_after_s(value: str | None, now: datetime) -> float | None:
    """Seconds a `Retry-After` header asks to wait (RFC 9110: delay-seconds or an HTTP-date), from
    `now`; None when absent or unreadable (then the caller's own backoff applies)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        at = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        return None
    return max(0.0, (at - now).total_seconds())
