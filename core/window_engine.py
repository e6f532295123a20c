"""One window's step: apply a routed input to its state, then let every strategy decide and risk
judge each signal. Returns the new state (None: drop it, the window is over) and what to publish:
signals, order intents with their decision context, and rejections with the rule. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from core.enums import Outcome, WindowPhase
from core.intents import build_intent, build_rejection
from core.models import (
    DecisionContext,
    IntentRejected,
    LastTrade,
    OracleTick,
    OrderIntent,
    Signal,
    SpotTick,
    WindowEvent,
)
from core.risk import Approved, Exposure, Rejected, RiskLimits, check_risk
from core.routing import ControlsUpdate, Expire, WindowInput
from core.strategies.base import Strategy, evaluate_guarded
from core.window_state import CandleOpen, WindowState

__all__ = ["Desk", "Output", "decide", "exposure_of", "step"]

Output = Signal | OrderIntent | IntentRejected


@dataclass(frozen=True)
class Desk:
    """What every window decides with: the strategies, the settings' limits, and the session's
    and day's P&L (signed) as known to this flow."""

    strategies: tuple[Strategy, ...]
    limits: RiskLimits = field(default_factory=RiskLimits)
    session_pnl_usd: Decimal = Decimal(0)
    day_pnl_usd: Decimal = Decimal(0)


def step(state: WindowState | None, item: WindowInput, desk: Desk) -> tuple[WindowState | None, list[Output]]:
    """Apply `item`; market data (stamped with its event time) triggers a decision."""
    if state is None:
        if isinstance(item, WindowEvent) and item.phase is not WindowPhase.RESOLVED:
            return WindowState(item), []
        return None, []
    if isinstance(item, Expire):
        return None, []
    if isinstance(item, WindowEvent):
        state.apply_window(item)
        return (None, []) if state.resolved else (state, [])
    if isinstance(item, ControlsUpdate):
        state.set_controls(item.controls)
        return state, []
    if isinstance(item, LastTrade):
        state.apply_trade(item)
    elif isinstance(item, OracleTick):
        state.apply_oracle(item)
    elif isinstance(item, SpotTick):
        state.apply_spot(item)
    elif isinstance(item, CandleOpen):
        state.apply_candle(item)
    else:
        state.apply_book(item)
    return state, decide(state, item.source_ts, desk)


def exposure_of(state: WindowState, outcome: Outcome, desk: Desk) -> Exposure:
    return Exposure(
        instrument=state.instrument,
        window_start=state.start,
        window_end=state.end,
        window_phase=state.phase,
        orders_in_window=sum(state.orders.values()),
        position_usd=state.position_usd.get(outcome, Decimal(0)),
        session_pnl_usd=desk.session_pnl_usd,
        day_pnl_usd=desk.day_pnl_usd,
        tick=state.tick_size(outcome) or Decimal("0.01"),
    )


def _context(
    state: WindowState, signal: Signal, result: Approved | Rejected, now: datetime
) -> DecisionContext:
    up_bids, up_asks = state.depth(Outcome.UP)
    down_bids, down_asks = state.depth(Outcome.DOWN)
    return DecisionContext(
        up_bids=up_bids,
        up_asks=up_asks,
        down_bids=down_bids,
        down_asks=down_asks,
        reference_price=state.reference_price,
        strike=state.strike,
        signal=signal,
        risk_result=result.describe(),
        controls_version=state.controls.version if state.controls is not None else 0,
        event_ts=now,
    )


def decide(state: WindowState, now: datetime, desk: Desk) -> list[Output]:
    """Every strategy's signal at `now`, each followed by its intent or its rejection."""
    outputs: list[Output] = []
    for strategy in desk.strategies:
        signal = evaluate_guarded(strategy, state, now)
        if signal is None:
            continue
        state.record_signal(signal.strategy)
        outputs.append(signal)
        result = check_risk(
            signal, state.controls, exposure_of(state, signal.outcome, desk), now, desk.limits
        )
        if isinstance(result, Approved):
            state.record_order(signal.outcome, result.cost_usd)
            outputs.append(build_intent(signal, result, _context(state, signal, result, now)))
        else:
            version = state.controls.version if state.controls is not None else None
            outputs.append(build_rejection(signal, result, version))
    return outputs
