"""The synthetic maker's book for one window at one moment: levels from fair price, profile and seed.

Built in the favourite's prices (the token with the higher fair price), then mapped to the Up book
the exchange keeps. Random draws are floats turned into whole shares and tick-rounded Decimal
prices, never money arithmetic. Two kinds of draws:
- per window (`window_draws`), fixed for its life: whether and when the favourite's asks are pulled
  (a pulled book stays pulled), how deep it is relative to the median, how often the spread widens,
  which levels are heavier (sizes are rounded to two figures, so an unmoved level keeps its order);
- per requote (`rng`): how far a widened spread goes, and whether the touch is thin this time.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from simulator.book import BookSide
from simulator.book_profile import BookProfile

ONE = Decimal(1)
CENT = Decimal("0.01")
FINE_TICK = Decimal("0.001")
END_BID = Decimal("0.99")
BID_LEVELS = 10
INSIDE_ODDS = 0.25


@dataclass(frozen=True, slots=True)
class WindowDraws:
    """A window's persistent draws (uniforms and log-normal depth factors)."""

    withdraw_u: float
    wide_u: float
    ask_factor: float
    bid_factor: float
    wall_factor: float
    salt: int = 0  # the ladder's shape: which levels are heavier, how thin a thin touch is


def window_draws(seed: int, slug: str) -> WindowDraws:
    rng = random.Random(f"{seed}:{slug}:book")
    return WindowDraws(
        withdraw_u=rng.random(),
        wide_u=rng.random(),
        ask_factor=rng.lognormvariate(0.0, 0.45),
        bid_factor=rng.lognormvariate(0.0, 0.25),
        wall_factor=rng.lognormvariate(0.0, 0.12),
        salt=rng.getrandbits(32),
    )


@dataclass(frozen=True, slots=True)
class Level:
    side: BookSide  # in the Up book
    price: Decimal  # Up price
    size: Decimal


def _floor(p: Decimal, step: Decimal) -> Decimal:
    return (p / step).to_integral_value(rounding=ROUND_FLOOR) * step


def _ceil(p: Decimal, step: Decimal) -> Decimal:
    return (p / step).to_integral_value(rounding=ROUND_CEILING) * step


def _weight(salt: int, price: Decimal) -> float:
    """A level's stable weight in 0.7-1.3, from the window's salt and the price (cheap, no RNG)."""
    return 0.7 + 0.6 * ((int(price * 1000) * 2654435761 + salt) % 1009) / 1009


def _round_size(shares: float) -> int:
    """Two significant figures (at least 5): a level keeps its size, and its order, between
    requotes unless the book really moved."""
    if shares < 5:
        return 5
    magnitude: int = 10 ** max(0, int(math.log10(shares)) - 1)
    return max(5, round(shares / magnitude) * magnitude)


def _spread_sizes(total: float, prices: list[Decimal], salt: int) -> list[int]:
    """`total` shares over the levels, about evenly (§11b's depth within 5 cents of the touch and
    §11c's whole-book depth are both met by an even ladder of up to 15 cents)."""
    weights = [_weight(salt, p) for p in prices]
    norm = sum(weights)
    return [_round_size(total * w / norm) for w in weights]


def build_levels(
    profile: BookProfile,
    tau_s: float,
    p_up: float,
    tick: Decimal,
    draws: WindowDraws,
    rng: random.Random,
) -> list[Level]:
    """The maker's whole book for `tau_s` seconds to close at fair P(Up) = `p_up`, on `tick`."""
    point = profile.at(tau_s)
    end = profile.end_state(tau_s)
    up_fav = p_up >= 0.5
    pf = Decimal(f"{max(p_up, 1.0 - p_up):.6f}")
    top = ONE - tick
    pf = min(pf, top - tick)  # room for an ask at the top tick
    # Spread: one tick, or wider by whole cents in the window's widening moments.
    widen = Decimal(0)
    if draws.wide_u < point.wide and point.wide_cents >= 1:
        widen = CENT * rng.randint(1, max(1, int(point.wide_cents)))
    # Makers quote whole cents below 0.99 even on the fine tick (the recorded 15-minute books: a
    # favourite at 0.96-0.99 shows a one-cent spread three times in four); ticks above 0.99.
    quantum = CENT if pf < END_BID else tick
    bid = _floor(pf, quantum) - _floor(widen / 2, quantum)
    ask = bid + quantum + widen
    if ask > top:  # a widened spread at the top of the range widens downwards
        bid, ask = bid - (ask - top), top
    bid = max(bid, tick)
    # At the open neither token leads: the ask depth is split evenly, then leans to the profile's.
    lean = min(1.0, abs(p_up - 0.5) / 0.35) if tau_s >= profile.open_tau_s else 1.0
    total_asks = point.fav_ask_depth * draws.ask_factor
    total_bids = point.fav_bid_depth * draws.bid_factor
    if lean < 1.0:
        both = total_asks + total_bids
        total_asks = both * (0.5 * (1 - lean)) + total_asks * lean
        total_bids = both - total_asks

    fav: list[tuple[BookSide, Decimal, int]] = []
    # Mid-window (before the profile's first measured time) the book is always two-sided.
    capped = float(pf) > profile.ask_cap and tau_s <= profile.open_tau_s
    offered = draws.withdraw_u >= point.withdraw and not capped and total_asks >= 5
    if end:
        ask = max(ask, END_BID + tick)
        offered = offered and ask <= top
    if offered and ask <= top:
        prices = [ask]
        nxt = _ceil(ask + tick, CENT)
        while nxt <= min(END_BID, top) and len(prices) < 15:
            prices.append(nxt)
            nxt += CENT
        if ask > END_BID:  # above 0.99 the book steps in ticks up to 0.999
            prices += sorted({p for p in (ask + 4 * tick, top) if ask < p <= top})
        small = rng.random() < point.small_top and len(prices) > 2
        if small and rng.random() < 0.5:
            del prices[1]  # a thin touch with a gap behind it: what makes 50 shares cost a cent
        sizes = _spread_sizes(total_asks, prices, draws.salt)
        if small:
            sizes[0] = 5 + draws.salt % 36
        inner = max(bid + tick, _ceil(pf, tick))
        if tick < quantum and inner < ask and not end and rng.random() < INSIDE_ODDS:
            prices.insert(0, inner)  # someone quotes inside the cent spread on the fine tick
            sizes.insert(0, 5 + draws.salt % 96)
        fav += [("ask", p, s) for p, s in zip(prices, sizes, strict=True)]
    best_ask = fav[0][1] if fav else ONE
    bids: list[Decimal] = []
    level = min(bid, best_ask - tick)
    while level >= tick and len(bids) < BID_LEVELS:
        bids.append(level)
        level = _floor(level - tick, CENT) if level % CENT == 0 else _floor(level, CENT)
    if bids and total_bids >= 5:
        fav += [("bid", p, s) for p, s in zip(bids, _spread_sizes(total_bids, bids, draws.salt), strict=True)]
    if end and point.wall > 0:
        wall = _round_size(point.wall * draws.wall_factor)
        fav = [lv for lv in fav if not (lv[0] == "bid" and lv[1] == END_BID)]
        fav.append(("bid", END_BID, wall))
    return [_to_up(side, price, size, up_fav) for side, price, size in fav]


def _to_up(side: BookSide, price: Decimal, size: int, up_fav: bool) -> Level:
    """A favourite-space level as a level of the Up book (the Down token's bid is an Up ask)."""
    if up_fav:
        return Level(side, price, Decimal(size))
    return Level("ask" if side == "bid" else "bid", ONE - price, Decimal(size))


def crosses_fine_edge(p_up: float, end_state: bool) -> bool:
    """The venue moves a market to 0.001 once its price passes 0.96 or 0.04 (§6.3)."""
    return end_state or p_up > 0.96 or p_up < 0.04


def fair_up(log_moneyness: float, tau_s: float, vol_per_s: float) -> float:
    """P(close >= strike) for a driftless log-normal price, `log_moneyness` = ln(spot / strike)."""
    if tau_s <= 0:
        return 1.0 if log_moneyness >= 0 else 0.0
    z = log_moneyness / (vol_per_s * math.sqrt(tau_s))
    return 0.5 * math.erfc(-z / math.sqrt(2.0))
