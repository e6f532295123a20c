"""Simulated resting liquidity shaped like the venue's books, per window length (§11b, §11c).

The maker prices a window from the oracle (P(Up) from ln(spot/strike), the time left and the
asset's quoting volatility, `oracle.ASSET_MODELS`), takes its book shape from
`book_profile.profile_for(interval)` and its levels from `quote_model.build_levels`.

A requote replaces the maker's levels in one step: the cancels and placements happen inside one
`Exchange.batched()` block, so the market channel sends one `price_change` with the net change and
no reader, REST or socket, ever sees the half-built book in between. Only levels that changed (price,
size, or an order partly taken) are replaced; the others keep their orders. Levels that would cross
someone else's resting order are left out (the maker posts, it never takes).

The tick follows the book: once the maker's price passes 0.96 or 0.04, or the end state bids the
favourite at 0.99, the market moves to 0.001 (`tick_size_change`; Gamma's field follows). Like
the venue's documented change it is one-way.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from simulator.book import BookSide, Order, Side
from simulator.book_profile import profile_for
from simulator.oracle import ASSET_MODELS
from simulator.protocol import VenueError
from simulator.quote_model import (
    FINE_TICK,
    Level,
    WindowDraws,
    build_levels,
    crosses_fine_edge,
    fair_up,
    window_draws,
)
from simulator.windows import Window

MM_OWNER = "sim-mm"


class LiquidityVenue(Protocol):
    """The part of the Exchange the maker uses."""

    def place_liquidity(
        self, token_id: str, side: Side, price: Decimal, size: Decimal, owner: str = MM_OWNER
    ) -> str: ...

    def cancel_owner_orders(self, owner: str, token_id: str | None = None) -> int: ...

    def batched(self) -> AbstractContextManager[None]: ...

    def cancel(self, account: str, order_ids: list[str]) -> tuple[list[str], dict[str, str]]: ...

    def order(self, order_id: str) -> Order | None: ...

    def best(self, token_id: str) -> tuple[Decimal | None, Decimal | None]: ...

    def tick_size(self, token_or_condition: str) -> Decimal: ...

    def set_tick_size(self, condition_id: str, tick: Decimal) -> None: ...


@dataclass(frozen=True, slots=True)
class MakerSettings:
    # Scenario seconds between requotes. The venue's books change many times a second; a maker that
    # went quiet for the feeds' gap threshold (5 s) would make every quiet stretch a false feed gap.
    requote_s: float = 1.0
    # Kept for the synthetic feed's warm-up: the paths start at least this many seconds early.
    levels: int = 5


def log_moneyness(spot: Decimal, strike: Decimal) -> float:
    return float((spot / strike).ln())


class MarketMaker:
    """Requotes each window's Up book (the Down book mirrors it) from the oracle's fair price."""

    def __init__(self, venue: LiquidityVenue, settings: MakerSettings, seed: int) -> None:
        self.venue, self.settings, self.seed = venue, settings, seed
        self._last: dict[str, datetime] = {}
        self._draws: dict[str, WindowDraws] = {}
        self._resting: dict[str, dict[tuple[BookSide, Decimal], tuple[str, Decimal]]] = {}

    def due(self, window: Window, now: datetime) -> bool:
        last = self._last.get(window.slug)
        return last is None or (now - last).total_seconds() >= self.settings.requote_s

    def withdraw(self, window: Window) -> None:
        """Pull the window's quotes at its close and forget it."""
        self.venue.cancel_owner_orders(MM_OWNER, window.up_token_id)
        self._last.pop(window.slug, None)
        self._draws.pop(window.slug, None)
        self._resting.pop(window.slug, None)
        window.quote = (None, None, window.quote[2])

    def quote(self, window: Window, now: datetime, spot: Decimal | None, strike: Decimal | None) -> None:
        """Replace the maker's orders on `window` for time `now` (deterministic per window and second)."""
        self._last[window.slug] = now
        tau = (window.end - now).total_seconds()
        if spot is None or tau <= 0:
            with self.venue.batched():
                self.venue.cancel_owner_orders(MM_OWNER, window.up_token_id)
            self._resting.pop(window.slug, None)
            window.quote = (None, None, window.quote[2])
            return
        profile = profile_for(window.interval_s)
        model = ASSET_MODELS.get(window.asset, ASSET_MODELS["btc"])
        vol = model.quote_vol_per_s if profile.quote_vol == "print" else model.vol_per_s
        p_up = 0.5 if strike is None else fair_up(log_moneyness(spot, strike), tau, vol)
        tick = self._tick(window, p_up, profile.end_state(tau))
        draws = self._draws.get(window.slug)
        if draws is None:
            draws = self._draws[window.slug] = window_draws(self.seed, window.slug)
        rng = random.Random(f"{self.seed}:{window.slug}:{int(now.timestamp())}")
        levels = build_levels(profile, tau, p_up, tick, draws, rng)
        with self.venue.batched():
            self._replace(window, levels)
        bid, ask = self.venue.best(window.up_token_id)
        window.quote = (bid, ask, window.quote[2])

    def _tick(self, window: Window, p_up: float, end_state: bool) -> Decimal:
        tick = self.venue.tick_size(window.condition_id)
        if tick > FINE_TICK and crosses_fine_edge(p_up, end_state):
            self.venue.set_tick_size(window.condition_id, FINE_TICK)
            tick = FINE_TICK
        window.tick = tick
        return tick

    def _replace(self, window: Window, levels: list[Level]) -> None:
        """Cancel the resting levels that changed or went, then post the new ones."""
        resting = self._resting.setdefault(window.slug, {})
        target = {(lv.side, lv.price): lv.size for lv in levels}
        stale: list[str] = []
        for key, (order_id, size) in list(resting.items()):
            order = self.venue.order(order_id)
            intact = order is not None and order.status == "LIVE" and order.remaining == size
            if not intact or target.get(key) != size:
                if order is not None and order.status == "LIVE":
                    stale.append(order_id)
                del resting[key]
        if stale:
            self.venue.cancel(MM_OWNER, stale)
        fresh = [lv for lv in levels if (lv.side, lv.price) not in resting]
        for level in self._posting(window, fresh):
            side: Side = "BUY" if level.side == "bid" else "SELL"
            try:
                order_id = self.venue.place_liquidity(
                    window.up_token_id, side, level.price, level.size, MM_OWNER
                )
            except (VenueError, KeyError, ValueError):  # a refused quote (closed market) is skipped
                continue
            if order_id:  # "" while a swept level waits for its refill (simulator.refill)
                resting[(level.side, level.price)] = (order_id, level.size)

    def _posting(self, window: Window, levels: list[Level]) -> Iterator[Level]:
        """The levels that do not cross the others' resting orders (the maker's own are canceled)."""
        bid, ask = self.venue.best(window.up_token_id)
        for level in levels:
            if level.side == "bid" and ask is not None and level.price >= ask:
                continue
            if level.side == "ask" and bid is not None and level.price <= bid:
                continue
            yield level
