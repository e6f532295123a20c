"""The name `simulator.server.load_scenario` imports: scenarios live in `simulator.scenario`."""

from simulator.scenario import SCENARIOS, Scenario, ScenarioSettings, build_scenario

__all__ = ["SCENARIOS", "Scenario", "ScenarioSettings", "build_scenario"]
