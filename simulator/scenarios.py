"""The scenarios `polywindow sim --scenario` and `simulator.server.load_scenario` choose from.

`synthetic` and `replay` live in `simulator.scenario`; `replay-books` (recorded L2 books as the
book source) in `simulator.replay_books`.
"""

from __future__ import annotations

from simulator import scenario as _scenario
from simulator.config import SimulatorConfig
from simulator.exchange import Exchange
from simulator.markets import SimClock
from simulator.replay_books import SCENARIO_NAME as REPLAY_BOOKS
from simulator.replay_books import build_replay_books
from simulator.scenario import Scenario, ScenarioSettings

SCENARIOS = (*_scenario.SCENARIOS, REPLAY_BOOKS)

__all__ = ["SCENARIOS", "Scenario", "ScenarioSettings", "build_scenario"]


def build_scenario(
    name: str,
    speed: float = 1.0,
    seed: int | None = None,
    exchange: Exchange | None = None,
    config: SimulatorConfig | None = None,
    settings: ScenarioSettings | None = None,
    clock: SimClock | None = None,
) -> Scenario:
    """Build any scenario of `SCENARIOS` by name (see `simulator.scenario.build_scenario` for the rest)."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}: choose one of {', '.join(SCENARIOS)}")
    if name != REPLAY_BOOKS:
        return _scenario.build_scenario(name, speed, seed, exchange, config, settings, clock)
    chosen_seed = seed if seed is not None else (config.seed if config is not None else 0)
    built = build_replay_books(settings=settings, seed=chosen_seed, clock=clock, speed=speed)
    if exchange is not None:
        built.bind(exchange)
    return built
