"""Depth a taker took from the simulated makers comes back only after a refill delay.

On the venue a level a taker swept returns when some maker chooses to quote it again, seconds
later, not on the next tick. The simulator's makers (unlimited accounts: the synthetic maker, the
replayed books) requote from their model every few seconds and would put swept depth straight
back, so fills would never move the book for long. The exchange therefore remembers, per market
and Up-space level, the shares takers took from unlimited makers; until that level's refill time,
a simulated maker's new order there is cut by what is still missing (to nothing if all of it).

The refill time is the fill's scenario time plus `delay_s` times a factor in [0.5, 1.5) drawn from
a generator seeded by (seed, market, side, price, n-th depletion of that level): deterministic
under the seed, independent of how finely a scenario steps time. A level is forgotten once
refilled, and a market's levels when it resolves.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from simulator.book import BookSide, Side

ZERO = Decimal(0)
Key = tuple[str, BookSide, Decimal]


@dataclass(slots=True)
class _Missing:
    size: Decimal
    until: datetime


class RefillGate:
    """What is still missing at each swept level, and when it may be quoted again."""

    def __init__(self, delay_s: float, seed: int) -> None:
        self.delay_s = delay_s
        self.seed = seed
        self._missing: dict[Key, _Missing] = {}
        self._depletions: dict[Key, int] = {}

    def taken(self, market: str, side: BookSide, up_price: Decimal, size: Decimal, now: datetime) -> None:
        """Record `size` shares a taker took at a level; the level's refill time moves out."""
        if self.delay_s <= 0 or size <= 0:
            return
        key = (market, side, up_price)
        count = self._depletions.get(key, 0) + 1
        self._depletions[key] = count
        rng = random.Random(f"{self.seed}:{market}:{side}:{up_price}:{count}")
        until = now + timedelta(seconds=self.delay_s * (0.5 + rng.random()))
        current = self._live(key, now)
        if current is None:
            self._missing[key] = _Missing(size, until)
        else:
            current.size += size
            current.until = max(current.until, until)

    def allowed(
        self, market: str, side: BookSide, up_price: Decimal, size: Decimal, now: datetime
    ) -> Decimal:
        """How much of a simulated maker's `size` may rest at the level now."""
        current = self._live((market, side, up_price), now)
        return size if current is None else max(ZERO, size - current.size)

    def refill_at(self, market: str, side: BookSide, up_price: Decimal, now: datetime) -> datetime | None:
        """When the level may be quoted in full again, or None if nothing is missing there."""
        current = self._live((market, side, up_price), now)
        return None if current is None else current.until

    def forget_market(self, market: str) -> None:
        for key in [k for k in self._missing if k[0] == market]:
            del self._missing[key]
        for key in [k for k in self._depletions if k[0] == market]:
            del self._depletions[key]

    def _live(self, key: Key, now: datetime) -> _Missing | None:
        current = self._missing.get(key)
        if current is not None and now >= current.until:
            del self._missing[key]
            return None
        return current


def up_level(up_token_id: str, token_id: str, side: Side, price: Decimal) -> tuple[BookSide, Decimal]:
    """The Up-space book level an order of `token_id` at `price` rests on."""
    is_up = token_id == up_token_id
    return ("bid" if (side == "BUY") == is_up else "ask"), (price if is_up else 1 - price)
