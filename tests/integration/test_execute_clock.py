"""The executor keeps the time it is given: under a simulator followed at any speed its orders,
fills and positions carry scenario time, the time the windows and the assertions are on (at
`--speed 5` the wall clock put orders minutes before their window, and `no_future_windows` opened
the breaker)."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from core.enums import TradingMode
from polywindow.execution_wiring import build_manager
from tests.integration.execute_harness import intent_for, record_window, rows, venue_of
from tests.simulator.conftest import RunningSim

pytestmark = [pytest.mark.stack, pytest.mark.timeout(60)]


def test_a_live_order_is_stamped_with_the_clock_the_executor_follows(
    sim: RunningSim, conn: psycopg.Connection
) -> None:
    sim.quote(sim.market.up_token_id, "SELL", "0.50", "100")
    record_window(conn, sim)
    plain = intent_for(sim)
    scenario_now = plain.event_ts + timedelta(minutes=10)  # a scenario running ahead of the wall
    intent = plain.model_copy(update={"event_ts": scenario_now - timedelta(seconds=1)})
    manager = build_manager(TradingMode.LIVE, conn, venue=venue_of(sim), now=lambda: scenario_now)

    assert manager.execute(intent).status == "FILLED"

    assert rows(conn, "SELECT created_at FROM orders") == [(scenario_now,)]
    assert rows(conn, "SELECT opened_at FROM positions") == [(scenario_now,)]
