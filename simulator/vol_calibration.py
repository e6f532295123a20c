"""Per-second volatility of a recorded oracle price series, at a chosen horizon.

Used to calibrate `oracle.ASSET_MODELS` on real prints (the fixture day for BTC): the standard
deviation of log returns over non-overlapping `horizon_s` steps, divided by the square root of the
horizon. Horizon 300 gives the volatility that reproduces a 5-minute window's moves; horizon 1 the
volatility of one second's print. Floats are fine here: this is statistics, not money.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal


def vol_per_s(prices: Mapping[int, Decimal], horizon_s: int) -> float:
    """`prices`: price by unix second (gaps allowed; a step whose end is missing is skipped)."""
    if horizon_s < 1:
        raise ValueError("horizon_s must be at least 1")
    seconds = sorted(prices)
    if not seconds:
        raise ValueError("no prices")
    returns = [
        math.log(float(prices[t + horizon_s] / prices[t]))
        for t in range(seconds[0], seconds[-1] - horizon_s + 1, horizon_s)
        if t in prices and t + horizon_s in prices
    ]
    if len(returns) < 2:
        raise ValueError("too few returns at this horizon")
    mean = sum(returns) / len(returns)
    var = sum((r - mean) ** 2 for r in returns) / len(returns)
    return math.sqrt(var / horizon_s)
