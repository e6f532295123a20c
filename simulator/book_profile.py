"""How a window's book looks by time to close, per window length (POLYMARKET.md §11b, §11c).

A profile is a list of anchors (seconds to close -> book parameters); between anchors values are
interpolated (log-linearly for share counts, linearly for probabilities). The quote model
(`simulator.quote_model`) turns a profile point, the fair price and the seed into levels.

Where the figures come from:
- 5 minutes: §11c, measured on 102 real BTC windows at 120, 90, 60, 45, 30, 20 and 10 s before the
  close. The withdrawal odds are set so that, together with asks the price itself removes (a
  favourite above 0.995 is not offered), the favourite is quoted both sides as often as §11c says;
  `bench/book_shape.py` prints the result side by side with §11c.
- 15 minutes: §11b's bands (18 real BTC windows), and the same recorded books' medians at 600, 300,
  180, 90 and 45 s (tests/simulator/test_book_shape_15m.py); both give the favourite's depth within
  5 cents of the touch, so the whole ladder (up to 15 cents, even) holds more where the price
  leaves room.
- Where the sources say nothing we choose, from the measured shapes:
  * the first minutes of a window hold the earliest measured row (120 s for 5 minutes, 10-15 min
    for 15 minutes): the drain is a close-of-window behaviour, both measured shapes are flat
    before it, and at the open neither token is the favourite yet, so the quote model splits the
    ask depth evenly between the tokens there;
  * hourly windows use the 15-minute profile by absolute seconds to close: makers pull as the last
    oracle prints decide the outcome, which is a matter of seconds left, not of window length;
  * the 15-minute end state (the favourite bid at 0.99 from 30 s out) takes the 5-minute wall sizes.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, fields
from typing import Literal

INTERVAL_5M, INTERVAL_15M, INTERVAL_1H = 300, 900, 3600


@dataclass(frozen=True, slots=True)
class BookPoint:
    """Book parameters at one time to close (shares are medians; odds are per window)."""

    fav_ask_depth: float  # favourite's asks, whole ladder, when offered
    fav_bid_depth: float  # favourite's bids (the underdog's asks) below the touch
    wall: float  # favourite bid at 0.99 (the underdog offered at 0.01); 0 = none
    withdraw: float  # odds that the favourite's asks have been pulled
    wide: float  # odds that the spread is wider than one tick
    wide_cents: float  # how wide it gets then, at most
    small_top: float  # odds that the best ask holds fewer than 50 shares


@dataclass(frozen=True, slots=True)
class Anchor:
    tau_s: float
    point: BookPoint
    end_state: bool = False  # the favourite is not offered under 0.99, and is bid at 0.99


@dataclass(frozen=True, slots=True)
class BookProfile:
    """Anchors sorted by time to close, ascending; `end_state_s`: the last seconds' end state."""

    anchors: tuple[Anchor, ...]
    end_state_s: float
    open_tau_s: float  # before this many seconds to close, the book is the earliest anchor's
    ask_cap: float = 0.995  # a favourite fairly priced above this is not offered near the close
    # Which volatility the book prices with (oracle.AssetModel): "print", one second's print (the
    # 5-minute books: §11c's favourite at 0.98 at 60 s), or "window", the path's own (the 15-minute
    # books: §11b's 0.65 / 0.79 / 0.93 / 0.95 / 0.97 are what a consistent model gives).
    quote_vol: Literal["print", "window"] = "print"

    def at(self, tau_s: float) -> BookPoint:
        taus = [a.tau_s for a in self.anchors]
        tau = min(max(tau_s, taus[0]), taus[-1])
        i = bisect.bisect_left(taus, tau)
        if taus[i] == tau:
            return self.anchors[i].point
        lo, hi = self.anchors[i - 1], self.anchors[i]
        w = (tau - lo.tau_s) / (hi.tau_s - lo.tau_s)
        return BookPoint(
            *(
                _blend(f.name, getattr(lo.point, f.name), getattr(hi.point, f.name), w)
                for f in fields(BookPoint)
            )
        )

    def end_state(self, tau_s: float) -> bool:
        return tau_s <= self.end_state_s


def _blend(name: str, lo: float, hi: float, w: float) -> float:
    if name in ("fav_ask_depth", "fav_bid_depth", "wall") and lo > 0 and hi > 0:
        return math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * w)
    return lo + (hi - lo) * w


P = BookPoint
FIVE_MINUTE = BookProfile(
    anchors=(
        Anchor(0, P(0, 1_000, 1_200_000, 1.0, 0.0, 0, 0.0), True),
        Anchor(10, P(0, 1_000, 1_080_000, 1.0, 0.0, 0, 0.0), True),
        Anchor(20, P(8_000, 1_000, 86_000, 0.9, 0.2, 4, 0.5), True),
        Anchor(30, P(12_000, 36_000, 0, 0.35, 0.2, 4, 0.3)),
        Anchor(45, P(6_000, 50_000, 0, 0.25, 0.015, 1, 0.25)),
        Anchor(60, P(11_000, 45_000, 0, 0.15, 0.015, 1, 0.3)),
        Anchor(90, P(19_000, 42_000, 0, 0.1, 0.015, 1, 0.3)),
        Anchor(120, P(26_000, 40_000, 0, 0.0, 0.015, 1, 0.2)),
    ),
    end_state_s=20,
    open_tau_s=120,
)

FIFTEEN_MINUTE = BookProfile(
    anchors=(
        Anchor(0, P(0, 1_000, 1_200_000, 1.0, 0.0, 0, 0.0), True),
        Anchor(10, P(0, 1_000, 1_080_000, 1.0, 0.0, 0, 0.0), True),
        Anchor(30, P(0, 1_000, 34_000, 1.0, 0.0, 0, 0.0), True),
        Anchor(45, P(300, 2_000, 0, 0.75, 0.04, 1, 0.3)),
        Anchor(90, P(60, 3_000, 0, 0.45, 0.04, 1, 0.5)),
        Anchor(120, P(400, 5_000, 0, 0.3, 0.04, 1, 0.3)),
        Anchor(180, P(6_000, 8_000, 0, 0.08, 0.04, 1, 0.12)),
        Anchor(300, P(13_000, 14_000, 0, 0.0, 0.02, 1, 0.1)),
        Anchor(450, P(20_000, 20_000, 0, 0.0, 0.0, 0, 0.1)),
        Anchor(750, P(22_000, 22_000, 0, 0.0, 0.0, 0, 0.1)),
    ),
    end_state_s=30,
    open_tau_s=750,
    # The recorded 15-minute books still offer a favourite at 0.99x two to five minutes out (§11b:
    # 92% two-sided, 63% under 0.99): only the top tick is left unoffered.
    ask_cap=0.998,
    quote_vol="window",
)

PROFILES = {INTERVAL_5M: FIVE_MINUTE, INTERVAL_15M: FIFTEEN_MINUTE, INTERVAL_1H: FIFTEEN_MINUTE}


def profile_for(interval_s: int) -> BookProfile:
    """The profile of a window length; the 15-minute one for hourly and any longer window."""
    return PROFILES.get(interval_s, FIVE_MINUTE if interval_s < INTERVAL_15M else FIFTEEN_MINUTE)
