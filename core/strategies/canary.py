"""The canary: proves the whole path with the least money. At T-60 s it buys $1 of the side the
CLOB favours (mid above $0.50) at that side's best ask, once per window, on every instrument; no
stop-loss, the position rides to resolution."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import ClassVar

from pydantic import Field

from core.models import Signal
from core.strategies.base import Strategy, StrategyParams, make_signal, register
from core.window_state import WindowState

__all__ = ["Canary", "CanaryParams"]


class CanaryParams(StrategyParams):
    notional_usd: Decimal = Field(default=Decimal(1), gt=0)
    seconds_before_close: int = Field(default=60, gt=0)


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
        reason = f"T-{state.time_left(now).total_seconds()} s: CLOB favours {side.value} (ask {ask})"
        return make_signal(state, self.name, side, ask, self.params.notional_usd, now, reason)


@register(Canary.name, CanaryParams)
def _build(params: StrategyParams) -> Strategy:
    if not isinstance(params, CanaryParams):
        raise TypeError(f"canary needs CanaryParams, got {type(params).__name__}")
    return Canary(params)
