"""The venue's side of a campaign window: each of our trade legs once, under its own token, whichever
of the window's tokens the venue lists it for."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest

from core.enums import TradingMode
from core.fees import trade_fee
from polywindow.campaign_evidence import venue_trades
from polywindow.execution_wiring import build_manager
from tests.integration.execute_harness import intent_for, record_window, venue_of
from tests.simulator.conftest import RunningSim

pytestmark = [pytest.mark.stack, pytest.mark.timeout(60)]
D = Decimal


def test_a_buy_matched_against_a_bid_on_the_other_token_is_evidence_once_under_the_token_bought(
    sim: RunningSim, conn: psycopg.Connection
) -> None:
    up, down = sim.market.up_token_id, sim.market.down_token_id
    sim.quote(down, "BUY", "0.50", "100")  # a bid for Down at 0.50 is an ask for Up at 0.50
    record_window(conn, sim)
    venue = venue_of(sim)
    filled = build_manager(TradingMode.LIVE, conn, venue=venue).execute(intent_for(sim, size="6"))
    assert filled.status == "FILLED", filled
    listed_for = {t: [x["id"] for x in venue.client.get_trades() if t in _tokens_of(x)] for t in (up, down)}
    assert listed_for[up] and listed_for[up] == listed_for[down], "the trade touches both tokens"

    evidence = venue_trades(venue, (up, down))

    _tick, schedule = venue.market_info(up)
    assert [(e.token_id, e.side, e.price, e.size, e.fee_usd) for e in evidence] == [
        (up, "BUY", D("0.50"), D(6), trade_fee(schedule, D(6), D("0.50")))
    ]


def _tokens_of(trade: dict[str, object]) -> set[str]:
    makers = trade.get("maker_orders") or []
    assert isinstance(makers, list)
    return {str(trade["asset_id"]), *(str(m["asset_id"]) for m in makers)}
