"""Simulated resting liquidity that thins towards a window's close as the venue's books do (§11b).

A book that stays deep to the end makes every strategy look better than it can be, so the maker
follows POLYMARKET.md §11b's medians by time to close: how often both sides are quoted, the
favourite's depth within 5 cents of the touch, and nothing at all in the last 30 s. The fair price is
a model, not money: P(Up) = Φ(ln(S/K) / (σ√τ)), then snapped to the market's tick as Decimal.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from statistics import NormalDist
from typing import Protocol

from simulator.book import Side
from simulator.protocol import VenueError
from simulator.windows import Window

MM_OWNER = "sim-mm"


class LiquidityVenue(Protocol):
    """The part of part A's Exchange the maker uses."""

    def place_liquidity(
        self, token_id: str, side: Side, price: Decimal, size: Decimal, owner: str = MM_OWNER
    ) -> str: ...

    def cancel_owner_orders(self, owner: str, token_id: str | None = None) -> int: ...


@dataclass(frozen=True, slots=True)
class BookBand:
    """One row of §11b: from `min_tau_s` to the next row, the quoting odds and depth."""

    min_tau_s: int
    both_sides: float
    favourite_depth: Decimal
    other_depth: Decimal


BANDS = (
    BookBand(600, 1.00, Decimal("8700"), Decimal("8700")),
    BookBand(300, 1.00, Decimal("8200"), Decimal("8200")),
    BookBand(120, 0.92, Decimal("3000"), Decimal("3000")),
    BookBand(60, 0.54, Decimal("40"), Decimal("400")),
    BookBand(30, 0.18, Decimal("0"), Decimal("150")),
)


def band_for(tau_s: float) -> BookBand | None:
    """The §11b row for `tau_s` seconds to close; None in the last 30 s (empty book)."""
    return next((b for b in BANDS if tau_s >= b.min_tau_s), None)


@dataclass(frozen=True, slots=True)
class MakerSettings:
    levels: int = 5
    requote_s: float = 5.0
    vol_per_s: float = 0.0001
    min_size: Decimal = Decimal("5")


def fair_up(spot: Decimal, strike: Decimal, tau_s: float, vol_per_s: float) -> float:
    """P(close >= strike) for a driftless log-normal price with `vol_per_s` per-second volatility."""
    if tau_s <= 0:
        return 1.0 if spot >= strike else 0.0
    z = float((spot / strike).ln()) / (vol_per_s * math.sqrt(tau_s))
    return NormalDist().cdf(z)


def _floor_tick(p: float, tick: Decimal) -> Decimal:
    return (Decimal(f"{p:.6f}") / tick).to_integral_value(rounding=ROUND_FLOOR) * tick


class MarketMaker:
    """Requotes each window's Up book (the Down book mirrors it) from the oracle's fair price."""

    def __init__(self, venue: LiquidityVenue, settings: MakerSettings, seed: int) -> None:
        self.venue, self.settings, self.seed = venue, settings, seed
        self._last: dict[str, datetime] = {}

    def due(self, window: Window, now: datetime) -> bool:
        last = self._last.get(window.slug)
        return last is None or (now - last).total_seconds() >= self.settings.requote_s

    def withdraw(self, window: Window) -> None:
        self.venue.cancel_owner_orders(MM_OWNER, window.up_token_id)
        self._last.pop(window.slug, None)
        window.quote = (None, None, window.quote[2])

    def quote(
        self, window: Window, now: datetime, spot: Decimal | None, strike: Decimal | None, tick: Decimal
    ) -> None:
        """Replace the maker's orders on `window` for time `now` (deterministic per window and second)."""
        self._last[window.slug] = now
        self.venue.cancel_owner_orders(MM_OWNER, window.up_token_id)
        tau = (window.end - now).total_seconds()
        band = band_for(tau)
        if band is None or spot is None:
            window.quote = (None, None, window.quote[2])
            return
        rng = random.Random(f"{self.seed}:{window.slug}:{int(now.timestamp())}")
        p = 0.5 if strike is None else fair_up(spot, strike, tau, self.settings.vol_per_s)
        p = min(max(p, float(tick)), 1 - 2 * float(tick))
        bid = _floor_tick(p, tick)
        ask = bid + tick
        up_favourite = p >= 0.5
        both = rng.random() < band.both_sides
        # When one side goes, it is the favourite's asks: Up asks if Up leads, else Up bids (= Down asks).
        quote_bids = both or up_favourite
        quote_asks = both or not up_favourite
        fav_depth, other_depth = band.favourite_depth, band.other_depth
        bid_depth = other_depth if up_favourite else fav_depth
        ask_depth = fav_depth if up_favourite else other_depth
        placed_bid = self._ladder(window, "BUY", bid, -tick, bid_depth, tick) if quote_bids else None
        placed_ask = self._ladder(window, "SELL", ask, tick, ask_depth, tick) if quote_asks else None
        window.quote = (placed_bid, placed_ask, window.quote[2])

    def _ladder(
        self, window: Window, side: Side, touch: Decimal, step: Decimal, depth: Decimal, tick: Decimal
    ) -> Decimal | None:
        """Spread `depth` shares over up to `levels` ticks from the touch; returns the touch placed."""
        if depth <= 0:
            return None
        size = max((depth / self.settings.levels).quantize(Decimal("0.01")), self.settings.min_size)
        placed: Decimal | None = None
        for k in range(self.settings.levels):
            price = touch + step * k
            if not tick <= price <= 1 - tick:
                break
            try:
                self.venue.place_liquidity(window.up_token_id, side, price, size, owner=MM_OWNER)
            except (VenueError, KeyError, ValueError):  # a refused quote (closed market, tick) is skipped
                continue
            placed = price if placed is None else placed
        return placed
