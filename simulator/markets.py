"""A simulated window market and the scenario clock the simulator runs on.

Scenario time (`SimClock.now()`) drives everything the market sees: book and WS timestamps, order
expiry, window close. Authentication never uses it: L1/L2 timestamps are compared with wall time,
because the client signs them with its own wall clock, whatever speed a replay runs at.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Protocol

_CONDITION_ID = re.compile(r"0x[0-9a-fA-F]{64}")
_TOKEN_ID = re.compile(r"[0-9]{1,78}")
FEE_QUANTUM = Decimal("0.00001")
VALID_TICKS = (Decimal("0.1"), Decimal("0.01"), Decimal("0.001"), Decimal("0.0001"))


@dataclass(frozen=True, slots=True)
class SimMarket:
    """One binary Up/Down window market as the CLOB knows it.

    `up_token_id` is outcome index 0 ("Up"), `down_token_id` index 1 ("Down"), as Gamma lists them.
    The fee schedule is the venue's `crypto_fees_v2` one: taker only, `rate * (p(1-p))^exponent`.
    """

    condition_id: str
    slug: str
    question: str
    asset: str
    interval_s: int
    up_token_id: str
    down_token_id: str
    start: datetime
    end: datetime
    tick_size: Decimal = Decimal("0.01")
    min_order_size: Decimal = Decimal("5")
    fee_rate: Decimal = Decimal("0.07")
    fee_exponent: int = 1
    neg_risk: bool = False
    market_id: str = ""
    description: str = ""
    outcomes: tuple[str, str] = field(default=("Up", "Down"))

    def __post_init__(self) -> None:
        if not _CONDITION_ID.fullmatch(self.condition_id):
            raise ValueError(f"condition_id must be 0x+64 hex: {self.condition_id!r}")
        for token in (self.up_token_id, self.down_token_id):
            if not _TOKEN_ID.fullmatch(token):
                raise ValueError(f"token id must be a decimal uint256 string: {token!r}")
        if self.up_token_id == self.down_token_id:
            raise ValueError("up and down token ids must differ")
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.tick_size not in VALID_TICKS:
            raise ValueError(f"tick size must be one of {VALID_TICKS}: {self.tick_size}")
        if self.fee_exponent not in (1, 2):
            raise ValueError(f"unverified fee exponent: {self.fee_exponent}")

    @property
    def token_ids(self) -> tuple[str, str]:
        return (self.up_token_id, self.down_token_id)

    def outcome_of(self, token_id: str) -> str:
        return self.outcomes[0] if token_id == self.up_token_id else self.outcomes[1]

    def other_token(self, token_id: str) -> str:
        return self.down_token_id if token_id == self.up_token_id else self.up_token_id

    def taker_fee(self, shares: Decimal, price: Decimal) -> Decimal:
        """Taker fee in collateral for `shares` filled at `price` (POLYMARKET.md §6.7), 5 decimals."""
        if self.fee_rate == 0:
            return Decimal(0)
        per_share = self.fee_rate * (price * (1 - price)) ** self.fee_exponent
        return (shares * per_share).quantize(FEE_QUANTUM, rounding=ROUND_HALF_UP)


class SimClock(Protocol):
    """Scenario time: may run faster than wall time or sit in the past during a replay.

    `speed` is how many scenario seconds pass per wall second on their own (0 for a clock that
    moves only when told to); `GET /_sim/clock` publishes it so other processes can follow.
    """

    @property
    def speed(self) -> float: ...

    def now(self) -> datetime: ...


class WallClock:
    """Scenario time equal to wall time (the default for a live-like simulator)."""

    @property
    def speed(self) -> float:
        return 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)


class ScaledClock:
    """Scenario time starting at `origin` and advancing `speed` times faster than wall time.

    A replay of a recorded day at 60x uses `ScaledClock(day_start, 60)`.
    """

    def __init__(self, origin: datetime, speed: float = 1.0) -> None:
        if origin.tzinfo is None:
            raise ValueError("origin must be timezone-aware")
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._origin = origin
        self._speed = speed
        self._wall0 = time.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._wall0) * self._speed
        return self._origin + timedelta(seconds=elapsed)


class ManualClock:
    """Scenario time that moves only when told to; for deterministic tests and stepping replays."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start

    @property
    def speed(self) -> float:
        return 0.0

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("time must be timezone-aware")
        self._now = when

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)


def ms(when: datetime) -> int:
    """Unix milliseconds of an aware datetime (the venue's book/WS timestamp unit)."""
    return int(when.timestamp() * 1000)
