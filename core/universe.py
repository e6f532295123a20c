"""What polywindow follows: the assets and window lengths of the crypto Up/Down markets it knows how
to name and trade (POLYMARKET.md §2.1). Settings, discovery and the simulator all check against this
one list, so a value one of them accepts is never refused by another."""

from __future__ import annotations

from collections.abc import Iterable

ASSETS: tuple[str, ...] = ("btc", "eth", "sol", "xrp")
INTERVALS_S: tuple[int, ...] = (300, 900, 3600, 14_400)  # 5m, 15m, hourly, 4h


def known_assets(assets: Iterable[str]) -> tuple[str, ...]:
    """The assets, in order and without repeats; ValueError naming the allowed ones otherwise."""
    chosen = tuple(dict.fromkeys(assets))
    unknown = [a for a in chosen if a not in ASSETS]
    if unknown or not chosen:
        what = f"unknown asset(s) {', '.join(unknown)}" if unknown else "no asset"
        raise ValueError(f"{what}; allowed: {', '.join(ASSETS)}")
    return chosen


def known_intervals(intervals_s: Iterable[int]) -> tuple[int, ...]:
    """The window lengths in seconds, in order and without repeats; ValueError naming the allowed ones."""
    chosen = tuple(dict.fromkeys(intervals_s))
    unknown = [str(i) for i in chosen if i not in INTERVALS_S]
    if unknown or not chosen:
        what = f"unknown interval(s) {', '.join(unknown)} s" if unknown else "no interval"
        raise ValueError(f"{what}; allowed: {', '.join(map(str, INTERVALS_S))}")
    return chosen
