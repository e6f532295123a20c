"""Backtest research rules: a parameter grid's expansion, each backtest intent settled into a trade,
and the figures a sweep reports per parameter set.

A backtest trade is the intent's order walked through the book its decision captured
(`core.fills.simulate_fill` as a FAK unless it is a FOK, as BACKTEST's executor fills, at the
smallest size at or above the intent's that the venue accepts, `core.order_amounts.marketable_size`,
unless that breaks the per-position cap) and held to the venue's resolution of
its window (the `md.windows` RESOLVED event's `venue_outcome`): a winning share pays 1 USD, a
losing one nothing; fees from the schedule. Stop-loss and take-profit exits are not simulated here.
The win rate's confidence interval is Wilson's score interval at 95% (no randomness: the same
trades always give the same interval). Pure: Decimal only.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from core.enums import OrderType, Outcome
from core.fees import FeeSchedule
from core.fills import FillOutcome, FillRequest, levels_from, simulate_fill
from core.models import OrderIntent
from core.order_amounts import marketable_size
from core.strategy_review import max_drawdown_usd

__all__ = [
    "MAX_GRID",
    "WILSON_Z",
    "BacktestTrade",
    "SweepMetrics",
    "expand_grid",
    "params_label",
    "settle_intent",
    "sweep_metrics",
    "tick_of",
    "wilson_interval",
]

MAX_GRID = 1000
"""More parameter sets than this is almost surely a mistake in the grid file."""
WILSON_Z = Decimal("1.959964")
"""The normal quantile of a two-sided 95% interval."""

_ZERO = Decimal(0)
_ONE = Decimal(1)
_CENT = Decimal("0.01")
_FOUR = Decimal("0.0001")


def expand_grid(grid: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, keys in sorted order, values in the order given; a
    value that is not a list is fixed. An empty grid is one parameter set (the defaults). Raises
    ValueError for an empty list, a repeated value or more than `MAX_GRID` sets."""
    keys = sorted(grid)
    choices: list[list[Any]] = []
    for key in keys:
        values = grid[key] if isinstance(grid[key], list) else [grid[key]]
        if not values:
            raise ValueError(f"grid parameter {key!r} has no values")
        labels = [json.dumps(v, sort_keys=True, default=str) for v in values]
        if len(set(labels)) != len(labels):
            raise ValueError(f"grid parameter {key!r} repeats a value")
        choices.append(values)
    count = 1
    for values in choices:
        count *= len(values)
    if count > MAX_GRID:
        raise ValueError(f"the grid has {count} parameter sets, more than {MAX_GRID}")
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*choices)]


def params_label(params: Mapping[str, Any]) -> str:
    """One parameter set as compact, sorted JSON (numbers as their exact text)."""
    return json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))


def tick_of(price: Decimal) -> Decimal:
    """The coarsest tick (0.01 or 0.001) the price sits on: the captured book's tick at that price."""
    return _CENT if price == price.quantize(_CENT) else Decimal("0.001")


@dataclass(frozen=True, slots=True)
class BacktestTrade:
    """One intent's result: what filled at what cost, and its net P&L at the window's resolution
    (`pnl_usd` None while the archive holds no resolution for the window)."""

    window_id: str
    strategy: str
    outcome: Outcome
    event_ts: datetime
    filled_size: Decimal
    cost_usd: Decimal
    fee_usd: Decimal
    fill: FillOutcome
    winner: Outcome | None
    settled_at: datetime | None
    pnl_usd: Decimal | None

    @property
    def traded(self) -> bool:
        return self.filled_size > _ZERO


def settle_intent(
    intent: OrderIntent,
    winner: Outcome | None,
    resolved_at: datetime | None,
    schedule: FeeSchedule,
    max_position_usd: Decimal = Decimal(5),
) -> BacktestTrade:
    """The intent filled against its decision's captured book and settled at `winner` (None: not
    resolved in the archive, no P&L yet). An intent without a captured book fills nothing."""
    ctx = intent.context
    outcome = ctx.signal.outcome if ctx is not None else Outcome.UP
    asks = (ctx.up_asks if outcome is Outcome.UP else ctx.down_asks) if ctx is not None else ()
    marketable = intent.order_type if intent.order_type in (OrderType.FAK, OrderType.FOK) else OrderType.FAK
    tick = tick_of(intent.limit_price)
    try:
        size = marketable_size(intent.side, intent.size, intent.limit_price, tick)
    except ValueError:
        size = intent.size  # simulate_fill refuses it, saying why
    if size * intent.limit_price > max_position_usd:
        size = intent.size  # the accepted size would break the per-position cap: the venue refuses this one
    request = FillRequest(intent.side, marketable, intent.limit_price, size)
    fill = simulate_fill(levels_from(asks), request, schedule, tick)
    filled, cost, fee = fill.filled_size, fill.notional, fill.fee
    pnl: Decimal | None = None
    if winner is not None:
        payout = filled if winner is outcome else _ZERO
        pnl = payout - cost - fee
    return BacktestTrade(
        window_id=str(intent.window_id),
        strategy=intent.strategy,
        outcome=outcome,
        event_ts=intent.event_ts,
        filled_size=filled,
        cost_usd=cost,
        fee_usd=fee,
        fill=fill.outcome,
        winner=winner,
        settled_at=resolved_at if winner is not None else None,
        pnl_usd=pnl,
    )


def wilson_interval(wins: int, n: int, z: Decimal = WILSON_Z) -> tuple[Decimal, Decimal] | None:
    """Wilson's score interval for a win rate of `wins` out of `n` (4 decimals), None for n = 0."""
    if n <= 0:
        return None
    if not 0 <= wins <= n:
        raise ValueError(f"wins {wins} outside 0..{n}")
    total = Decimal(n)
    p = Decimal(wins) / total
    z2 = z * z
    denominator = _ONE + z2 / total
    centre = (p + z2 / (2 * total)) / denominator
    half = z * (p * (_ONE - p) / total + z2 / (4 * total * total)).sqrt() / denominator
    low, high = max(_ZERO, centre - half), min(_ONE, centre + half)
    return low.quantize(_FOUR), high.quantize(_FOUR)


@dataclass(frozen=True, slots=True)
class SweepMetrics:
    """A parameter set's figures over its settled trades (unfilled intents are not trades)."""

    trades: int
    wins: int
    win_rate: Decimal | None
    pnl_usd: Decimal
    fees_usd: Decimal
    max_drawdown_usd: Decimal
    ci_low: Decimal | None
    ci_high: Decimal | None
    unsettled: int


def sweep_metrics(trades: Sequence[BacktestTrade]) -> SweepMetrics:
    """Trades, win rate with its Wilson interval, P&L net of fees and the maximum drawdown of the
    settled trades taken in settlement order (then window id)."""
    filled = [t for t in trades if t.traded]
    settled = sorted(
        (t for t in filled if t.pnl_usd is not None and t.settled_at is not None),
        key=lambda t: (t.settled_at, t.window_id, t.event_ts),
    )
    pnls = [t.pnl_usd for t in settled if t.pnl_usd is not None]
    wins = sum(1 for p in pnls if p > _ZERO)
    interval = wilson_interval(wins, len(pnls))
    return SweepMetrics(
        trades=len(pnls),
        wins=wins,
        win_rate=(Decimal(wins) / Decimal(len(pnls))).quantize(_FOUR) if pnls else None,
        pnl_usd=sum(pnls, _ZERO),
        fees_usd=sum((t.fee_usd for t in settled), _ZERO),
        max_drawdown_usd=max_drawdown_usd(pnls),
        ci_low=interval[0] if interval else None,
        ci_high=interval[1] if interval else None,
        unsettled=len(filled) - len(settled),
    )
