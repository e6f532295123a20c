"""LIVE confirmation over the user channel: with polling turned off, a fill is confirmed by the
channel's frames alone (sizes, prices and trade ids as the venue sent them); a dropped channel comes
back by itself and asks for a reconciliation (frames of the gap may be lost)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import psycopg
import pytest

from core.enums import TradingMode
from execution.fill_sources import VenueFills
from execution.user_confirmations import UserChannelListener
from polywindow.execution_wiring import build_manager, user_confirmations
from tests.integration.execute_harness import intent_for, order_row, rows, venue_of
from tests.simulator.conftest import RunningSim, wait_until

pytestmark = [pytest.mark.stack, pytest.mark.timeout(60)]
D = Decimal


@pytest.fixture
def channel(sim: RunningSim) -> Iterator[tuple[UserChannelListener, list[int]]]:
    gaps: list[int] = []
    listener = user_confirmations(venue_of(sim), sim.url, None, lambda: gaps.append(1))
    listener.start()
    try:
        wait_until(listener.connected.is_set, 20, "the user channel to subscribe")
        yield listener, gaps
    finally:
        listener.stop()


def test_with_polling_off_a_fill_is_confirmed_by_the_user_channel_alone(
    sim: RunningSim, conn: psycopg.Connection, channel: tuple[UserChannelListener, list[int]]
) -> None:
    listener, _gaps = channel
    up = sim.market.up_token_id
    sim.quote(up, "SELL", "0.48", "4")
    sim.quote(up, "SELL", "0.50", "100")
    venue = venue_of(sim)
    manager = build_manager(
        TradingMode.LIVE, conn, venue=venue, confirm_s=20, confirm_poll_s=None, pushed=listener.pushed
    )
    intent = intent_for(sim)
    assert manager.execute(intent).status == "FILLED"
    fills = manager.fills
    assert isinstance(fills, VenueFills)
    assert fills.confirmed_by == {"user_channel": 1, "poll": 0}
    status, matched, vid = order_row(conn, intent.client_order_id)
    assert (status, matched) == ("FILLED", D(6))
    venue_trades = {t["id"]: t for t in venue.client.get_trades() if t["taker_order_id"] == vid}
    booked = rows(conn, "SELECT trade_id, price, size, status FROM fills ORDER BY price")
    assert [(p, s, st) for _t, p, s, st in booked] == [
        (D("0.48"), D(4), "CONFIRMED"),
        (D("0.50"), D(2), "CONFIRMED"),
    ]
    assert {t for t, *_x in booked} == set(venue_trades)
    assert rows(conn, "SELECT state, size FROM positions") == [("MONITORING", D(6))]
    assert len(listener.pushed) == 0, "a confirmed order's frames are dropped"


def test_a_dropped_user_channel_reconnects_and_asks_for_a_reconciliation(
    sim: RunningSim, channel: tuple[UserChannelListener, list[int]]
) -> None:
    listener, gaps = channel
    assert gaps == []
    assert sim.admin("/ws/disconnect", {"channel": "user"}).json()["closed"] == 1
    wait_until(lambda: listener.sessions >= 2 and listener.connected.is_set(), 20, "the channel back")
    assert gaps == [1]


def test_an_unknown_order_is_settled_once_the_user_channel_speaks_of_it(
    sim: RunningSim, conn: psycopg.Connection, channel: tuple[UserChannelListener, list[int]]
) -> None:
    listener, _gaps = channel
    sim.quote(sim.market.up_token_id, "SELL", "0.50", "100")
    manager = build_manager(
        TradingMode.LIVE, conn, venue=venue_of(sim), confirm_s=0.5, pushed=listener.pushed
    )
    intent = intent_for(sim)
    # The POST lands but its answer is lost, and the venue cannot be asked during the confirmation.
    sim.admin(
        "/faults",
        {
            "drop_order_response_count": 1,
            "http_error_count": 10_000,
            "http_error_status": 500,
            "http_error_paths": ["/data/order"],
        },
    )
    assert manager.execute(intent).status == "UNKNOWN"
    assert manager.settle_unknown() == 0, "the venue still cannot be asked"
    sim.admin("/faults/reset", {})
    wait_until(lambda: manager.settle_unknown() == 1, 20, "the UNKNOWN order settled")
    assert order_row(conn, intent.client_order_id)[:2] == ("FILLED", D(6))
    assert rows(conn, "SELECT state, size FROM positions") == [("MONITORING", D(6))]
    assert manager.settle_unknown() == 0 and len(listener.pushed) == 0
