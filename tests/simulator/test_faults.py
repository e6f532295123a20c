"""One test per fault mode, each showing what a client sees when the admin switches it on."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from py_clob_client_v2.clob_types import (
    AssetType,
    BalanceAllowanceParams,
    MarketOrderArgsV2,
    OrderArgsV2,
    OrderType,
    TradeParams,
)
from py_clob_client_v2.exceptions import PolyApiException
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.simulator.conftest import HARDHAT_ADDRESS, RunningSim, admin_token, wait_until
from tests.simulator.test_client_roundtrip import client_for
from tests.simulator.test_ws_channels import events, read_frames


def admin_get(sim: RunningSim, path: str) -> dict[str, Any]:
    response = httpx.get(f"{sim.url}/_admin{path}", headers={"X-Admin-Token": admin_token()}, timeout=10)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def sockets(sim: RunningSim) -> dict[str, Any]:
    return admin_get(sim, "/ws")


def stalled_for(sim: RunningSim) -> float:
    return float(admin_get(sim, "/faults")["market_stalled_for_s"])


def subscribe(sim: RunningSim, ws, assets: list[str]) -> None:
    ws.send(json.dumps({"assets_ids": assets, "type": "market"}))
    assert json.loads(ws.recv(timeout=5))[0]["event_type"] == "book"


def test_admin_needs_the_token(sim: RunningSim) -> None:
    response = httpx.post(
        f"{sim.url}/_admin/faults", json={"latency_ms": 5}, headers={"X-Admin-Token": "wrong"}
    )
    assert response.status_code == 401


def test_added_latency_makes_a_client_with_a_shorter_timeout_time_out(sim: RunningSim) -> None:
    book = f"{sim.url}/book?token_id={sim.market.up_token_id}"
    assert httpx.get(book, timeout=10).status_code == 200
    assert sim.admin("/faults", {"latency_ms": 5000}).status_code == 200
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(book, timeout=httpx.Timeout(10, read=2))
    assert sim.admin("/faults/reset").status_code == 200
    assert httpx.get(book, timeout=httpx.Timeout(10, read=2)).status_code == 200


def test_injected_5xx_raises_with_status_then_recovers(sim: RunningSim) -> None:
    client = client_for(sim)
    sim.admin(
        "/faults",
        {
            "http_error_count": 1,
            "http_error_status": 503,
            "http_error_message": "Trading is currently disabled. Check polymarket.com for updates",
        },
    )
    with pytest.raises(PolyApiException) as failed:
        client.get_order_book(sim.market.up_token_id)
    assert failed.value.status_code == 503
    assert "Trading is currently disabled" in failed.value.error_msg["error"]
    assert client.get_order_book(sim.market.up_token_id)["asset_id"] == sim.market.up_token_id


def test_rate_limit_answers_429_with_retry_after(sim: RunningSim) -> None:
    sim.admin("/faults", {"rate_limit_count": 1, "retry_after_s": 3})
    response = httpx.get(f"{sim.url}/time")
    assert response.status_code == 429 and response.headers["retry-after"] == "3"
    assert httpx.get(f"{sim.url}/time").status_code == 200


def test_order_booked_but_response_lost(sim: RunningSim) -> None:
    client = client_for(sim)
    order = client.create_order(
        OrderArgsV2(token_id=sim.market.up_token_id, price=0.40, size=5.0, side="BUY")
    )
    sim.admin("/faults", {"drop_order_response_count": 1})
    with pytest.raises(PolyApiException) as lost:
        client.post_order(order, OrderType.GTC)
    assert lost.value.status_code is None, "the client cannot know whether the order exists"
    live = client.get_open_orders()
    assert len(live) == 1 and live[0]["price"] == "0.4"


def test_order_rejection_with_chosen_status_and_text(sim: RunningSim) -> None:
    client = client_for(sim)
    text = "Trading is currently cancel-only. New orders are not accepted, but cancels are allowed."
    sim.admin("/faults", {"reject_order_count": 1, "reject_status": 503, "reject_message": text})
    order = client.create_order(
        OrderArgsV2(token_id=sim.market.up_token_id, price=0.40, size=5.0, side="BUY")
    )
    with pytest.raises(PolyApiException) as refused:
        client.post_order(order, OrderType.GTC)
    assert refused.value.status_code == 503 and refused.value.error_msg == {"error": text}
    assert client.post_order(order, OrderType.GTC)["success"] is True


def test_forced_partial_fill_rests_the_remainder_and_kills_fok(sim: RunningSim) -> None:
    up = sim.market.up_token_id
    sim.quote(up, "SELL", "0.50", "100")
    client = client_for(sim)
    sim.admin("/faults", {"partial_fill_ratio": "0.5"})
    gtc = client.post_order(client.create_order(OrderArgsV2(token_id=up, price=0.50, size=10.0, side="BUY")))
    assert gtc["status"] == "matched" and gtc["takingAmount"] == "5"
    assert client.get_order(gtc["orderID"])["size_matched"] == "5"
    fok = client.create_market_order(MarketOrderArgsV2(token_id=up, amount=5.0, side="BUY", price=0.5))
    with pytest.raises(PolyApiException) as killed:
        client.post_order(fok, OrderType.FOK)
    assert "FOK orders are fully filled or killed" in killed.value.error_msg["error"]


def test_failed_trade_goes_retrying_then_failed_and_is_undone(sim: RunningSim) -> None:
    up = sim.market.up_token_id
    sim.quote(up, "SELL", "0.50", "100")
    client = client_for(sim)
    sim.admin("/faults", {"fail_trade_count": 1})
    posted = client.post_order(
        client.create_order(OrderArgsV2(token_id=up, price=0.50, size=10.0, side="BUY"))
    )
    assert posted["transactionsHashes"] == [], "a failed trade never gets a hash"
    trades = client.get_trades(TradeParams(id=posted["tradeIDs"][0]))
    assert trades[0]["status"] == "FAILED"
    balance = client.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
    assert balance["balance"] == "1000000000"


def test_balance_changed_outside_refuses_the_next_order(sim: RunningSim) -> None:
    client = client_for(sim)
    response = sim.admin("/balance", {"address": HARDHAT_ADDRESS, "asset": "COLLATERAL", "amount": "1.5"})
    assert response.status_code == 200
    balance = client.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
    assert balance["balance"] == "1500000"
    order = client.create_order(
        OrderArgsV2(token_id=sim.market.up_token_id, price=0.40, size=5.0, side="BUY")
    )
    with pytest.raises(PolyApiException) as refused:
        client.post_order(order, OrderType.GTC)
    assert refused.value.error_msg == {"error": "not enough balance / allowance"}


def test_websocket_disconnect_closes_market_and_user_sockets(sim: RunningSim) -> None:
    client = client_for(sim)
    auth = {
        "apiKey": client.creds.api_key,
        "secret": client.creds.api_secret,
        "passphrase": client.creds.api_passphrase,
    }
    with connect(f"{sim.ws_url}/ws/market") as market, connect(f"{sim.ws_url}/ws/user") as user:
        subscribe(sim, market, [sim.market.up_token_id])
        user.send(json.dumps({"auth": auth, "type": "user"}))
        wait_until(lambda: sockets(sim) == {"market": 1, "user": 1}, 10, "both sockets to be registered")
        assert sim.admin("/ws/disconnect", {"channel": "all"}).json() == {"closed": 2}
        for ws in (market, user):
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=5)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012


def test_stale_feed_sends_nothing_while_stalled(sim: RunningSim) -> None:
    up = sim.market.up_token_id
    with connect(f"{sim.ws_url}/ws/market") as ws:
        subscribe(sim, ws, [up])
        sim.admin("/faults", {"stall_market_s": 3})
        sim.quote(up, "BUY", "0.40", "10")
        assert read_frames(ws, quiet_s=0.5) == []
        assert stalled_for(sim) > 0, "the quiet read above happened while the stall was on"
        wait_until(lambda: stalled_for(sim) == 0, 10, "the stall to end")
        sim.quote(up, "BUY", "0.41", "10")
        after = events(read_frames(ws, quiet_s=0.3))
    assert after and after[0]["price_changes"][0]["price"] == "0.41"


def test_duplicate_price_change_frames(sim: RunningSim) -> None:
    up = sim.market.up_token_id
    with connect(f"{sim.ws_url}/ws/market") as ws:
        subscribe(sim, ws, [up])
        sim.admin("/faults", {"duplicate_price_change": True})
        sim.quote(up, "BUY", "0.40", "10")
        frames = read_frames(ws, quiet_s=0.3)
    assert len(frames) == 2 and frames[0] == frames[1]


def test_out_of_order_price_change_frames(sim: RunningSim) -> None:
    up = sim.market.up_token_id
    with connect(f"{sim.ws_url}/ws/market") as ws:
        subscribe(sim, ws, [up])
        sim.admin("/faults", {"reorder_price_change": True})
        sim.quote(up, "BUY", "0.40", "10")
        sim.quote(up, "BUY", "0.41", "10")
        changes = events(read_frames(ws, quiet_s=0.3))
    assert [c["price_changes"][0]["price"] for c in changes] == ["0.41", "0.4"]
    assert int(changes[0]["timestamp"]) >= int(changes[1]["timestamp"])


def test_malformed_frame_before_the_next_event(sim: RunningSim) -> None:
    up = sim.market.up_token_id
    with connect(f"{sim.ws_url}/ws/market") as ws:
        subscribe(sim, ws, [up])
        sim.admin("/faults", {"malformed_frame_count": 1})
        sim.quote(up, "BUY", "0.40", "10")
        frames = read_frames(ws, quiet_s=0.3)
    with pytest.raises(ValueError):
        json.loads(frames[0])
    assert json.loads(frames[1])["event_type"] == "price_change"


def test_fault_reset_restores_normal_service(sim: RunningSim) -> None:
    sim.admin("/faults", {"http_error_count": -1})
    assert httpx.get(f"{sim.url}/time").status_code == 500
    state = sim.admin("/faults/reset").json()
    assert state["http_error_count"] == 0
    assert httpx.get(f"{sim.url}/time").status_code == 200
    assert Decimal(httpx.get(f"{sim.url}/time").text) > 0
