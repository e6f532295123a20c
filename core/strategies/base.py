"""The strategy contract and registry.

A strategy has a name, typed parameters (a frozen pydantic model, validated when the strategy is
built) and one pure method, `evaluate(state, now) -> Signal | None`. The engine calls strategies
through `evaluate_guarded`, which never asks a strategy about a window that is not open at `now`;
`make_signal` refuses too, so neither layer alone can let a future window trade.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from core.enums import Outcome, Side
from core.intents import signal_id_for
from core.models import Signal
from core.window_state import WindowState

__all__ = [
    "REGISTRY",
    "Strategy",
    "StrategyParams",
    "build_strategy",
    "evaluate_guarded",
    "make_signal",
    "register",
]


class StrategyParams(BaseModel):
    """Base of every strategy's parameters: frozen, no unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Strategy(Protocol):
    name: ClassVar[str]
    params_type: ClassVar[type[StrategyParams]]

    def evaluate(self, state: WindowState, now: datetime) -> Signal | None: ...


StrategyFactory = Callable[[StrategyParams], Strategy]
REGISTRY: dict[str, tuple[type[StrategyParams], StrategyFactory]] = {}


def register(name: str, params_type: type[StrategyParams]) -> Callable[[StrategyFactory], StrategyFactory]:
    """Class decorator: make a strategy buildable by name. A name registered twice is a bug."""

    def add(factory: StrategyFactory) -> StrategyFactory:
        if name in REGISTRY:
            raise ValueError(f"strategy {name!r} registered twice")
        REGISTRY[name] = (params_type, factory)
        return factory

    return add


def build_strategy(name: str, params: Mapping[str, Any] | None = None) -> Strategy:
    """A strategy by name with validated parameters (pydantic ValidationError on bad ones)."""
    try:
        params_type, factory = REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown strategy {name!r}; registered: {sorted(REGISTRY)}") from None
    return factory(params_type.model_validate(dict(params or {})))


def make_signal(
    state: WindowState,
    strategy: str,
    outcome: Outcome,
    limit_price: Decimal,
    notional_usd: Decimal,
    now: datetime,
    reason: str,
) -> Signal | None:
    """A BUY signal on `outcome` with a deterministic id (window, strategy, ordinal); None when
    the window is not open at `now`."""
    if not state.is_open_at(now):
        return None
    return Signal(
        signal_id=signal_id_for(state.window_id, strategy, state.signals_from(strategy)),
        window_id=state.window_id,
        strategy=strategy,
        token_id=state.token(outcome),
        outcome=outcome,
        side=Side.BUY,
        limit_price=limit_price,
        notional_usd=notional_usd,
        event_ts=now,
        reason=reason,
    )


def evaluate_guarded(strategy: Strategy, state: WindowState, now: datetime) -> Signal | None:
    """Ask `strategy` only while the window is open at `now`; a signal for another window or
    stamped at another time than `now` is a strategy bug and raises."""
    if not state.is_open_at(now):
        return None
    signal = strategy.evaluate(state, now)
    if signal is not None and (signal.window_id != state.window_id or signal.event_ts != now):
        raise ValueError(f"{strategy.name} signalled for {signal.window_id} at {signal.event_ts}")
    return signal
