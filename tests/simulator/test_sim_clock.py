"""The simulator's clock on the wire: `/time` answers scenario time (integer seconds, as the venue
does) and `/_sim/clock` gives scenario ms and speed, so another process can follow it at any speed."""

from __future__ import annotations

import time

import httpx
import pytest
from py_clob_client_v2.client import ClobClient

from tests.simulator.conftest import ScenarioSim, admin_token, scenario_sim, wait_until


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def sim_clock(sim: ScenarioSim) -> dict[str, float]:
    response = httpx.get(f"{sim.url}/_sim/clock", timeout=10)
    assert response.status_code == 200
    body: dict[str, float] = response.json()
    return body


def time_brackets(sim: ScenarioSim) -> tuple[int, int, int]:
    """(scenario ms before, `/time` seconds, scenario ms after): the answer must lie in between."""
    before = int(sim_clock(sim)["now_ms"])
    answer = ClobClient(host=sim.url, chain_id=137).get_server_time()
    after = int(sim_clock(sim)["now_ms"])
    return before, answer, after


@pytest.mark.parametrize("speed", [1.0, 60.0])
def test_time_answers_scenario_time_at_any_speed(speed: float) -> None:
    with scenario_sim("synthetic", speed) as sim:
        clock = sim_clock(sim)
        assert clock["speed"] == speed and isinstance(clock["now_ms"], int)
        if speed > 1:  # wait until scenario time is visibly ahead of the wall clock
            wait_until(lambda: sim_clock(sim)["now_ms"] - wall_ms() >= 5000, 10, "scenario time to lead")
        before, answer, after = time_brackets(sim)
        assert isinstance(answer, int)
        assert before // 1000 <= answer <= after // 1000
        if speed > 1:
            assert answer * 1000 > wall_ms() + 4000, "/time follows the scenario, not the wall clock"
        else:
            assert abs(answer * 1000 - wall_ms()) < 1000 + 1000, "integer seconds, within 1 s of the wall"
            assert abs(int(sim_clock(sim)["now_ms"]) - wall_ms()) < 1000


def test_sim_clock_is_read_only_unauthenticated_and_never_faulted() -> None:
    with scenario_sim("synthetic", 1.0) as sim:
        assert httpx.post(f"{sim.url}/_sim/clock", timeout=10).status_code == 405
        assert abs(int(sim_clock(sim)["now_ms"]) - wall_ms()) < 1000
        headers = {"X-Admin-Token": admin_token()}
        body = {"http_error_count": -1, "http_error_status": 503}
        assert httpx.post(f"{sim.url}/_admin/faults", json=body, headers=headers).status_code == 200
        assert httpx.get(f"{sim.url}/time", timeout=10).status_code == 503, "the venue's routes are hurt"
        assert sim_clock(sim)["speed"] == 1.0, "the simulator's own clock route is not"


def test_replay_clock_reports_the_recorded_day_and_its_speed() -> None:
    with scenario_sim("replay", 60.0) as sim:
        first = sim_clock(sim)
        assert first["speed"] == 60.0
        assert 1780876800000 <= first["now_ms"] < 1780876800000 + 3_600_000
        wait_until(lambda: sim_clock(sim)["now_ms"] >= first["now_ms"] + 60_000, 10, "a scenario minute")
        before, answer, after = time_brackets(sim)
        assert before // 1000 <= answer <= after // 1000
