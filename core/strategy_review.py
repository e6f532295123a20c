"""A strategy's pre-registered expectation and the reviews made against it (issue 14, seed 3.2).

A strategy is registered, per version, with its parameters, risk parameters, instrument scope and
an expectation written down before its first trade: the win-rate range it should land in, the kill
criterion that pauses it, and what must hold before it is scaled up. After every settled window the
runtime asks `kill_verdict` about the strategy's settled results so far; the backtest asks
`kill_point` (the first window after which the criterion was met). The first `REVIEW_WINDOWS` live
windows are flagged for a human review (`review_windows`). Pure: results and times are passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.money import parse_decimal

__all__ = [
    "REVIEW_WINDOWS",
    "Expectation",
    "KillCriterion",
    "Registration",
    "ScaleUp",
    "SettledResult",
    "kill_point",
    "kill_verdict",
    "live_refusal",
    "max_drawdown_usd",
    "review_windows",
    "win_rate",
    "without_strategy",
]

REVIEW_WINDOWS = 10
"""How many of a strategy's first live windows a human reviews trade by trade (seed 3.2)."""

_ZERO = Decimal(0)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KillCriterion(_Frozen):
    """When to pause the strategy: once `min_windows` windows are settled, any limit that is set
    and crossed kills it (win rate under `min_win_rate`, cumulative net loss at or past
    `max_loss_usd`, drawdown from the P&L's peak at or past `max_drawdown_usd`). The loss limits
    apply from the first settled window: a loss that large needs no sample size to mean something."""

    min_windows: int = Field(default=10, ge=1)
    min_win_rate: Decimal | None = Field(default=None, ge=0, le=1)
    max_loss_usd: Decimal | None = Field(default=None, ge=0)
    max_drawdown_usd: Decimal | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _some_limit(self) -> KillCriterion:
        if self.min_win_rate is None and self.max_loss_usd is None and self.max_drawdown_usd is None:
            raise ValueError("a kill criterion needs min_win_rate, max_loss_usd or max_drawdown_usd")
        return self


class ScaleUp(_Frozen):
    """What must hold before the strategy gets more capital (checked by a human, recorded here)."""

    min_windows: int = Field(default=50, ge=1)
    min_win_rate: Decimal = Field(default=Decimal("0.5"), ge=0, le=1)
    min_pnl_usd: Decimal = Decimal(0)


class Expectation(_Frozen):
    """The pre-registered expectation: written before the first trade, never edited (a new
    registration is a new version)."""

    win_rate_low: Decimal = Field(ge=0, le=1)
    win_rate_high: Decimal = Field(ge=0, le=1)
    kill: KillCriterion
    scale_up: ScaleUp = Field(default_factory=ScaleUp)

    @model_validator(mode="after")
    def _range(self) -> Expectation:
        if self.win_rate_low > self.win_rate_high:
            raise ValueError("win_rate_low must not exceed win_rate_high")
        return self


class Registration(_Frozen):
    """A registration file's content (YAML or JSON): what `polywindow strategy register` stores."""

    strategy: str = Field(min_length=1, pattern=r"^[\w.:-]{1,100}$")
    params: dict[str, Any] = Field(default_factory=dict)
    risk: dict[str, Decimal] = Field(default_factory=dict)
    instruments: tuple[str, ...] = Field(min_length=1)
    expectation: Expectation | None = None


@dataclass(frozen=True, slots=True)
class SettledResult:
    """One settled window of a strategy: its net P&L (fees included) and when it settled."""

    window_id: str
    settled_at: datetime
    pnl_usd: Decimal

    @property
    def won(self) -> bool:
        return self.pnl_usd > _ZERO


def max_drawdown_usd(pnls: Iterable[Decimal]) -> Decimal:
    """The largest fall of cumulative P&L from its running peak (the peak starts at 0); >= 0."""
    total = peak = worst = _ZERO
    for pnl in pnls:
        total += pnl
        peak = max(peak, total)
        worst = max(worst, peak - total)
    return worst


def kill_verdict(results: Sequence[SettledResult], criterion: KillCriterion) -> str | None:
    """Why the criterion is met by these settled results (in settlement order), or None."""
    if not results:
        return None
    pnls = [r.pnl_usd for r in results]
    total = sum(pnls, _ZERO)
    if criterion.max_loss_usd is not None and -total >= criterion.max_loss_usd:
        return f"net P&L {total} USD reached the loss limit {criterion.max_loss_usd} USD"
    drawdown = max_drawdown_usd(pnls)
    if criterion.max_drawdown_usd is not None and drawdown >= criterion.max_drawdown_usd:
        return f"drawdown {drawdown} USD reached the limit {criterion.max_drawdown_usd} USD"
    if criterion.min_win_rate is not None and len(results) >= criterion.min_windows:
        wins = sum(1 for r in results if r.won)
        rate = Decimal(wins) / Decimal(len(results))
        if rate < criterion.min_win_rate:
            return (
                f"win rate {wins}/{len(results)} = {rate:.4f} under {criterion.min_win_rate}"
                f" after {len(results)} windows"
            )
    return None


def kill_point(results: Sequence[SettledResult], criterion: KillCriterion) -> tuple[int, str] | None:
    """The first number of settled windows after which the criterion is met, with why; None when it
    never is. The runtime checks after every settled window, so this is where it would have paused."""
    for count in range(1, len(results) + 1):
        why = kill_verdict(results[:count], criterion)
        if why is not None:
            return count, why
    return None


def review_windows(opened: Iterable[tuple[str, datetime]], count: int = REVIEW_WINDOWS) -> list[str]:
    """The strategy's first `count` windows (by their first position's opening time, then id) from
    `(window_id, opened_at)` pairs of its live positions: the ones flagged for review."""
    first: dict[str, datetime] = {}
    for window_id, at in opened:
        if window_id not in first or at < first[window_id]:
            first[window_id] = at
    return [w for w, _ in sorted(first.items(), key=lambda item: (item[1], item[0]))][:count]


def without_strategy(allowed: frozenset[str], strategy: str) -> frozenset[str] | None:
    """The `allowed_strategies` control with `strategy` taken out (pausing it), or None when it is
    not allowed now (already paused: nothing to change)."""
    if strategy not in allowed:
        return None
    return allowed - {strategy}


def live_refusal(
    strategy: str, params: Mapping[str, Any], registered: Mapping[str, Any] | None, has_expectation: bool
) -> str | None:
    """Why `strategy` with `params` may not trade LIVE, or None. It must be registered with these
    parameters and a pre-registered expectation (`registered` is the latest version's parameters)."""
    if registered is None:
        return f"strategy {strategy!r} is not registered (polywindow strategy register FILE)"
    if not has_expectation:
        return f"strategy {strategy!r} has no pre-registered expectation: register a version with one"
    if _plain(params) != _plain(registered):
        return f"strategy {strategy!r} runs parameters {dict(params)} but registered {dict(registered)}"
    return None


def _plain(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters compared as numbers where they are numbers ("1" and 1 and 1.0 are the same)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        try:
            out[key] = parse_decimal(str(value)) if not isinstance(value, bool) else value
        except ValueError:
            out[key] = value
    return out


def win_rate(results: Sequence[SettledResult]) -> Decimal | None:
    """Share of settled windows won; None without any."""
    if not results:
        return None
    return Decimal(sum(1 for r in results if r.won)) / Decimal(len(results))
