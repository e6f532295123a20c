"""The unmodified py-clob-client-v2, pointed at the simulator with `host=`, trades end to end."""

from __future__ import annotations

from decimal import Decimal

import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import (
    AssetType,
    BalanceAllowanceParams,
    MarketOrderArgsV2,
    OpenOrderParams,
    OrderArgsV2,
    OrderPayload,
    OrderType,
    TradeParams,
)
from py_clob_client_v2.exceptions import PolyApiException

from tests.simulator.conftest import HARDHAT_ADDRESS, HARDHAT_KEY, RunningSim


def client_for(sim: RunningSim, key: str = HARDHAT_KEY) -> ClobClient:
    client = ClobClient(host=sim.url, chain_id=137, key=key)
    client.set_api_creds(client.create_or_derive_api_key())
    return client


def test_derive_fails_before_create_then_keys_are_deterministic(sim: RunningSim) -> None:
    client = ClobClient(host=sim.url, chain_id=137, key=HARDHAT_KEY)
    with pytest.raises(PolyApiException) as refused:
        client.derive_api_key()
    assert refused.value.status_code == 400
    created = client.create_api_key()
    assert client.create_api_key() == created
    assert client.derive_api_key() == created
    assert len(created.api_passphrase) == 64


def test_client_round_trip_reads_trades_cancels_and_balances(sim: RunningSim) -> None:
    up = sim.market.up_token_id
    sim.quote(up, "SELL", "0.55", "100")
    sim.quote(up, "BUY", "0.45", "100")
    client = client_for(sim)

    book = client.get_order_book(up)
    assert book["asks"][-1] == {"price": "0.55", "size": "100"}
    assert book["bids"][-1] == {"price": "0.45", "size": "100"}
    assert client.get_order_book_hash(dict(book)) == book["hash"]
    assert client.get_tick_size(up) == "0.01"
    assert client.get_fee_rate_bps(up) == 1000
    assert client.get_neg_risk(up) is False
    assert client.get_midpoint(up) == {"mid": "0.5"}

    fok = client.create_market_order(
        MarketOrderArgsV2(token_id=up, amount=11.0, side="BUY", order_type=OrderType.FOK)
    )
    filled = client.post_order(fok, OrderType.FOK)
    assert filled["success"] is True and filled["status"] == "matched"
    assert filled["takingAmount"] == "20"
    assert filled["transactionsHashes"], "the client waits for the trades to be mined"

    sell = client.create_order(OrderArgsV2(token_id=up, price=0.60, size=10.0, side="SELL"))
    rested = client.post_order(sell, OrderType.GTC)
    assert rested["status"] == "live"

    open_orders = client.get_open_orders(OpenOrderParams(asset_id=up))
    assert [o["id"] for o in open_orders] == [rested["orderID"]]
    assert open_orders[0]["price"] == "0.6" and open_orders[0]["original_size"] == "10"
    assert client.get_order(rested["orderID"])["status"] == "LIVE"

    trades = client.get_trades(TradeParams(market=sim.market.condition_id))
    assert [t["id"] for t in trades] == filled["tradeIDs"]
    assert trades[0]["trader_side"] == "TAKER" and trades[0]["price"] == "0.55"
    assert trades[0]["status"] in ("MINED", "CONFIRMED")

    cancelled = client.cancel_order(OrderPayload(orderID=rested["orderID"]))
    assert cancelled == {"canceled": [rested["orderID"]], "not_canceled": {}}
    assert client.get_open_orders() == []
    again = client.cancel_order(OrderPayload(orderID=rested["orderID"]))
    assert again["not_canceled"] == {rested["orderID"]: "Order not found or already canceled"}

    fee = sim.market.taker_fee(Decimal(20), Decimal("0.55"))
    collateral = client.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
    expected = (Decimal(1000) - Decimal(11) - fee) * 1_000_000
    assert Decimal(collateral["balance"]) == expected
    shares = client.get_balance_allowance(
        BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL, token_id=up)
    )
    assert shares["balance"] == "20000000"
    assert client.get_closed_only_mode() == {"closed_only": False}
    assert client.get_ok() == "OK"
    assert sim.call(sim.exchange.balance, HARDHAT_ADDRESS, up) == Decimal(20)


def test_batch_post_and_cancel_all(sim: RunningSim) -> None:
    from py_clob_client_v2.clob_types import PostOrdersV2Args as PostOrdersArgs

    up, down = sim.market.up_token_id, sim.market.down_token_id
    client = client_for(sim)
    orders = [
        PostOrdersArgs(
            order=client.create_order(OrderArgsV2(token_id=up, price=0.30, size=5.0, side="BUY")),
            orderType=OrderType.GTC,
        ),
        PostOrdersArgs(
            order=client.create_order(OrderArgsV2(token_id=down, price=0.20, size=5.0, side="BUY")),
            orderType=OrderType.GTC,
        ),
        PostOrdersArgs(
            order=client.create_order(OrderArgsV2(token_id=up, price=0.30, size=1.0, side="BUY")),
            orderType=OrderType.GTC,
        ),
    ]
    results = client.post_orders(orders)
    assert [r["success"] for r in results] == [True, True, False]
    assert "lower than the minimum: 5" in results[2]["errorMsg"]
    down_book = client.get_order_book(down)
    assert down_book["asks"][-1] == {"price": "0.7", "size": "5"}, "a BUY Up at 0.30 is a SELL Down at 0.70"
    result = client.cancel_all()
    assert sorted(result["canceled"]) == sorted(r["orderID"] for r in results[:2])
    assert client.get_order_book(up)["bids"] == []


def test_heartbeat_session(sim: RunningSim) -> None:
    client = client_for(sim)
    first = client.post_heartbeat()
    second = client.post_heartbeat(first["heartbeat_id"])
    assert second["heartbeat_id"] != first["heartbeat_id"]
    with pytest.raises(PolyApiException) as wrong:
        client.post_heartbeat(first["heartbeat_id"])
    assert wrong.value.status_code == 400
    assert wrong.value.error_msg["heartbeat_id"] == second["heartbeat_id"]
