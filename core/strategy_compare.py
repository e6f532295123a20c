"""Live (or paper) trading against its backtest, window by window (issue 14): for each window the
strategy traded, what it decided and paid live beside what the same window replayed in BACKTEST
decided and filled, and whether the live win rate falls outside the backtest's 95% Wilson interval
over those windows. Pure: rows in, rows out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from core.enums import Outcome
from core.sweep import BacktestTrade, wilson_interval

__all__ = ["Comparison", "LiveTrade", "Summary", "TradeSide", "WindowComparison", "compare"]

_ZERO = Decimal(0)
_MICRO = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class LiveTrade:
    """One live or paper position: its side, what it bought (cost and average entry price), and its
    P&L once closed (else None)."""

    window_id: str
    outcome: Outcome | None
    entry_price: Decimal | None
    cost_usd: Decimal
    pnl_usd: Decimal | None

    @property
    def size(self) -> Decimal:
        if self.entry_price is None or self.entry_price <= _ZERO:
            return _ZERO
        return self.cost_usd / self.entry_price


@dataclass(frozen=True, slots=True)
class TradeSide:
    outcome: Outcome | None
    size: Decimal
    entry: Decimal | None
    pnl_usd: Decimal | None


@dataclass(frozen=True, slots=True)
class WindowComparison:
    window_id: str
    live: TradeSide
    backtest: TradeSide | None  # None: the replay did not trade the window
    same_decision: bool
    entry_diff: Decimal | None  # live entry less backtest entry (positive: live paid more)


@dataclass(frozen=True, slots=True)
class Summary:
    windows: int
    same_decisions: int
    live_settled: int
    live_wins: int
    live_pnl_usd: Decimal
    backtest_settled: int
    backtest_wins: int
    backtest_pnl_usd: Decimal
    ci_low: Decimal | None
    ci_high: Decimal | None
    live_outside: bool | None
    """Whether the live win rate is outside the backtest's interval (None: nothing to compare)."""


@dataclass(frozen=True, slots=True)
class Comparison:
    rows: list[WindowComparison]
    summary: Summary


def _entry(size: Decimal, cost: Decimal) -> Decimal | None:
    return (cost / size).quantize(_MICRO) if size > _ZERO else None


def _live_side(trades: Sequence[LiveTrade]) -> TradeSide:
    size = sum((t.size for t in trades), _ZERO)
    cost = sum((t.cost_usd for t in trades), _ZERO)
    pnls = [t.pnl_usd for t in trades]
    pnl = None if any(p is None for p in pnls) else sum((p for p in pnls if p is not None), _ZERO)
    return TradeSide(trades[0].outcome, size, _entry(size, cost), pnl)


def _backtest_side(trades: Sequence[BacktestTrade]) -> TradeSide | None:
    filled = [t for t in trades if t.traded]
    if not filled:
        return None
    size = sum((t.filled_size for t in filled), _ZERO)
    cost = sum((t.cost_usd for t in filled), _ZERO)
    pnls = [t.pnl_usd for t in filled]
    pnl = None if any(p is None for p in pnls) else sum((p for p in pnls if p is not None), _ZERO)
    return TradeSide(filled[0].outcome, size, _entry(size, cost), pnl)


def _group(items: Iterable[LiveTrade | BacktestTrade]) -> dict[str, list[LiveTrade | BacktestTrade]]:
    out: dict[str, list[LiveTrade | BacktestTrade]] = {}
    for item in items:
        out.setdefault(item.window_id, []).append(item)
    return out


def compare(live: Sequence[LiveTrade], backtest: Sequence[BacktestTrade]) -> Comparison:
    """The windows of `live` (sorted by id) beside `backtest`'s trades in them; windows the backtest
    traded but live did not are not compared (live is what is judged)."""
    live_by = _group(live)
    back_by = _group(backtest)
    rows: list[WindowComparison] = []
    for window_id in sorted(live_by):
        mine = _live_side([t for t in live_by[window_id] if isinstance(t, LiveTrade)])
        theirs = _backtest_side([t for t in back_by.get(window_id, []) if isinstance(t, BacktestTrade)])
        same = theirs is not None and theirs.outcome == mine.outcome
        diff = (
            mine.entry - theirs.entry
            if theirs is not None and same and mine.entry is not None and theirs.entry is not None
            else None
        )
        rows.append(WindowComparison(window_id, mine, theirs, same, diff))
    live_pnls = [r.live.pnl_usd for r in rows if r.live.pnl_usd is not None]
    back_pnls = [
        r.backtest.pnl_usd for r in rows if r.backtest is not None and r.backtest.pnl_usd is not None
    ]
    live_wins = sum(1 for p in live_pnls if p > _ZERO)
    back_wins = sum(1 for p in back_pnls if p > _ZERO)
    interval = wilson_interval(back_wins, len(back_pnls))
    outside: bool | None = None
    if interval is not None and live_pnls:
        rate = Decimal(live_wins) / Decimal(len(live_pnls))
        outside = not interval[0] <= rate <= interval[1]
    summary = Summary(
        windows=len(rows),
        same_decisions=sum(1 for r in rows if r.same_decision),
        live_settled=len(live_pnls),
        live_wins=live_wins,
        live_pnl_usd=sum(live_pnls, _ZERO),
        backtest_settled=len(back_pnls),
        backtest_wins=back_wins,
        backtest_pnl_usd=sum(back_pnls, _ZERO),
        ci_low=interval[0] if interval else None,
        ci_high=interval[1] if interval else None,
        live_outside=outside,
    )
    return Comparison(rows, summary)
