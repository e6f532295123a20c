"""Strategies: pure `evaluate(state, now) -> Signal | None`; importing this package registers them."""

from core.strategies import canary, oracle_momentum
from core.strategies.base import REGISTRY, Strategy, StrategyParams, build_strategy, evaluate_guarded

__all__ = [
    "REGISTRY",
    "Strategy",
    "StrategyParams",
    "build_strategy",
    "canary",
    "evaluate_guarded",
    "oracle_momentum",
]
