"""Oracle momentum against the strike: late in the window, when the settlement feed's price is
clearly away from the strike, buy the side it points to, if the book still sells it cheaply.

Up settles iff the final print >= strike, so a reference price `min_edge_bps` above the strike
with little time left favours Up (below: Down). Once per window; abstains without a strike, a
reference price or an ask at or under `max_price`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import ClassVar

from pydantic import Field, model_validator

from core.enums import Outcome
from core.models import Signal
from core.strategies.base import Strategy, StrategyParams, make_signal, register
from core.window_state import WindowState

__all__ = ["OracleMomentum", "OracleMomentumParams"]

_BPS = Decimal(10_000)


class OracleMomentumParams(StrategyParams):
    notional_usd: Decimal = Field(default=Decimal(1), gt=0)
    min_edge_bps: Decimal = Field(default=Decimal(5), gt=0)
    max_price: Decimal = Field(default=Decimal("0.90"), gt=0, lt=1)
    enter_from_s: int = Field(default=120, gt=0, description="earliest entry, seconds before close")
    enter_until_s: int = Field(default=20, ge=0, description="latest entry, seconds before close")

    @model_validator(mode="after")
    def _entry_span(self) -> OracleMomentumParams:
        if self.enter_until_s >= self.enter_from_s:
            raise ValueError("enter_until_s must be less than enter_from_s")
        return self


class OracleMomentum:
    name: ClassVar[str] = "oracle_momentum"
    params_type: ClassVar[type[StrategyParams]] = OracleMomentumParams

    def __init__(self, params: OracleMomentumParams) -> None:
        self.params = params

    def evaluate(self, state: WindowState, now: datetime) -> Signal | None:
        p = self.params
        left = state.time_left(now)
        if state.signals_from(self.name) > 0:
            return None
        if not timedelta(seconds=p.enter_until_s) <= left <= timedelta(seconds=p.enter_from_s):
            return None
        strike, reference = state.strike, state.reference_price
        if strike is None or reference is None or strike <= 0:
            return None
        edge_bps = (reference - strike) / strike * _BPS
        if edge_bps >= p.min_edge_bps:
            side = Outcome.UP
        elif edge_bps <= -p.min_edge_bps:
            side = Outcome.DOWN
        else:
            return None
        ask = state.best_ask(side)
        if ask is None or ask > p.max_price:
            return None
        reason = f"reference {reference} vs strike {strike}: {edge_bps:.2f} bps, {side.value} ask {ask}"
        return make_signal(state, self.name, side, ask, p.notional_usd, now, reason)


@register(OracleMomentum.name, OracleMomentumParams)
def _build(params: StrategyParams) -> Strategy:
    if not isinstance(params, OracleMomentumParams):
        raise TypeError(f"oracle_momentum needs OracleMomentumParams, got {type(params).__name__}")
    return OracleMomentum(params)
