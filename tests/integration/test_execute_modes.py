"""The same intent in each mode: the same rows downstream, the fill fields apart."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from core.enums import TradingMode
from core.fees import FeeSchedule
from polywindow.execution_wiring import FixedMarket, build_manager
from tests.integration.execute_harness import intent_for, rows, sim_orders_of, venue_of
from tests.simulator.conftest import HARDHAT_ADDRESS, RunningSim

pytestmark = [pytest.mark.stack, pytest.mark.timeout(60)]
D = Decimal


def test_one_intent_in_every_mode_gives_the_same_rows_but_the_fills(
    sim: RunningSim, conn: psycopg.Connection
) -> None:
    sim.quote(sim.market.up_token_id, "SELL", "0.50", "100")
    venue = venue_of(sim)
    intent = intent_for(sim)
    backtest_market = FixedMarket(D("0.01"), FeeSchedule(D("0.07")))
    for mode in TradingMode:
        manager = build_manager(
            mode,
            conn,
            venue=venue if mode is not TradingMode.BACKTEST else None,
            market=backtest_market,
            run_id="bt-1" if mode is TradingMode.BACKTEST else None,
        )
        assert manager.execute(intent.model_copy(update={"mode": mode})).status == "FILLED", mode

    orders = rows(
        conn,
        "SELECT mode, client_order_id, position_id, window_id, token_id, side, order_type, price, size,"
        " status, done FROM orders ORDER BY mode",
    )
    assert len(orders) == 4
    assert len({o[1:] for o in orders}) == 1, orders
    positions = rows(
        conn, "SELECT mode, position_id, window_id, token_id, strategy, state FROM positions ORDER BY mode"
    )
    assert len(positions) == 4 and len({p[1:] for p in positions}) == 1, positions
    audits = rows(conn, "SELECT detail->>'mode', action, subject FROM audit_log ORDER BY 1, 2")
    assert len(audits) == 8 and len({a[1:] for a in audits}) == 2, audits
    fills = rows(conn, "SELECT mode, size FROM fills ORDER BY mode")
    assert {m for m, _ in fills} == {m.value for m in TradingMode}
    assert all(sum(s for m2, s in fills if m2 == m) == D(6) for m, _ in fills)
    assert len(sim_orders_of(sim, HARDHAT_ADDRESS)) == 1, "only LIVE posted"
    signed = rows(
        conn, "SELECT signed_payload->'body'->'order'->>'signature' FROM orders WHERE mode = 'DRY_RUN'"
    )
    assert signed[0][0].startswith("0x"), "DRY_RUN stores the signed order"
    entry = rows(conn, "SELECT detail FROM audit_log WHERE action = 'entry' AND detail->>'mode' = 'LIVE'")[0][
        0
    ]
    for key in ("clob_price", "signal", "risk_result", "balance_usd", "order_payload", "ts_ms"):
        assert entry[key] not in (None, ""), key
