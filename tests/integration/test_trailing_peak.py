"""A trailing take-profit's peak is stored with the position and restored by a restarted executor:
a restart between the peak and the pullback still fires at the stored peak's threshold."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from core.enums import TradingMode
from core.exits import ExitConfig
from execution.exits import ExitManager
from polywindow.execution_wiring import build_manager
from tests.integration.execute_harness import intent_for, rows, venue_of
from tests.simulator.conftest import RunningSim

pytestmark = [pytest.mark.stack, pytest.mark.timeout(60)]
D = Decimal


def test_a_restart_between_the_peak_and_the_pullback_fires_at_the_stored_peaks_threshold(
    sim: RunningSim, conn: psycopg.Connection
) -> None:
    up = sim.market.up_token_id
    sim.quote(up, "SELL", "0.50", "100")
    trailing = ExitConfig.trailing()  # stop-loss 10 %, trailing 20 % in place of the fixed take-profit
    first = build_manager(TradingMode.LIVE, conn, venue=venue_of(sim))
    intent = intent_for(sim)
    assert first.execute(intent).status == "FILLED"
    now, end = intent.event_ts, sim.market.end
    assert ExitManager(first, trailing).on_book(up, {D("0.80"): D(100)}, now, end) == []
    assert rows(conn, "SELECT peak_price FROM positions") == [(D("0.80"),)]

    restarted = ExitManager(build_manager(TradingMode.LIVE, conn, venue=venue_of(sim)), trailing)
    assert restarted.on_book(up, {D("0.65"): D(100)}, now, end) == [], "above 0.80 less 20 %"
    assert rows(conn, "SELECT peak_price FROM positions") == [(D("0.80"),)], "a lower bid keeps the peak"
    sim.quote(up, "BUY", "0.64", "100")
    [done] = restarted.on_book(up, {D("0.64"): D(100)}, now, end)
    assert done.reason == "TRAILING_TAKE_PROFIT" and done.state.value == "CLOSED"
    audit = rows(conn, "SELECT detail FROM audit_log WHERE action = 'exit'")[0][0]
    assert D(audit["threshold"]) == D("0.64") and D(audit["mark"]) == D("0.64")
