"""The canary: proves the whole path with the least money. At T-60 s it buys $1 of the side the
CLOB favours (mid above $0.50) at that side's best ask, once per window, on every instrument; no
stop-loss, the position rides to resolution. `slippage_ticks` raises the limit above the ask seen
(a marketable limit): a FAK at exactly that ask is killed when the book moved between the decision
and the order, which proves nothing about the plumbing."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from core.models import Signal
from core.strategies.base import Strategy, StrategyParams, make_signal, register
from core.window_state import WindowState

__all__ = ["Canary", "CanaryParams"]

_DEFAULT_TICK = Decimal("0.01")  # the venue's usual tick, when no book said the token's own


class CanaryParams(StrategyParams):
    notional_usd: Decimal = Field(default=Decimal(1), gt=0)
    seconds_before_close: int = Field(default=60, gt=0)
    slippage_ticks: int = Field(default=0, ge=0, le=10)


class Canary:
    name: ClassVar[str] = "canary"
    params_type: ClassVar[type[StrategyParams]] = CanaryParams

    def __init__(self, params: CanaryParams) -> None:
        self.params = params

    def evaluate(self, state: WindowState, now: datetime) -> Signal | None:
        if state.signals_from(self.name) > 0:
            return None
        if state.time_left(now) > timedelta(seconds=self.params.seconds_before_close):
            return None
        side = state.favoured()
        if side is None:
            return None
        ask = state.best_ask(side)
        if ask is None or ask >= 1:
            return None
        tick = state.tick_size(side) or _DEFAULT_TICK
        limit = min(ask + self.params.slippage_ticks * tick, 1 - tick)
        reason = f"T-{state.time_left(now).total_seconds()} s: CLOB favours {side.value} (ask {ask})"
        return make_signal(state, self.name, side, max(limit, ask), self.params.notional_usd, now, reason)


@register(Canary.name, CanaryParams)
def _build(params: StrategyParams) -> Strategy:
    if not isinstance(params, CanaryParams):
        raise TypeError(f"canary needs CanaryParams, got {type(params).__name__}")
    return Canary(params)
