"""User-channel vectors: the POLYMARKET.md §8 example, status lifecycles, and the frames the
simulator's own wire code emits for our orders and trades."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.polymarket.user_parse import parse_user_frame, taker_fee_estimate, venue_client_order_id
from core.enums import OrderStatus, Side, TradeStatus, TradingMode
from core.models import Fill, OrderUpdate
from core.timestamps import from_s
from simulator.config import SimulatorConfig
from simulator.exchange import Exchange
from simulator.protocol import OrderRequest, UserMessage
from tests.contract.vectors import CID, DOWN, RECV, UP, open_window_market

OUR_ORDER = "0x7fbba6e122b776927b92a82a7e7e14e3847741085b26b02341a353dc63c0f9ec"
TAKER_ORDER = "0x06bc" + "0" * 60
KEY = "11111111-2222-3333-4444-555555555555"
D = Decimal

TRADE: dict[str, Any] = {
    "event_type": "trade",
    "type": "TRADE",
    "id": "9a1c0000-0000-0000-0000-000000000001",
    "taker_order_id": TAKER_ORDER,
    "market": CID,
    "asset_id": DOWN,
    "side": "BUY",
    "size": "5",
    "price": "0.43",
    "fee_rate_bps": "1000",
    "status": "MATCHED",
    "match_time": "1780906702",
    "outcome": "Down",
    "trader_side": "MAKER",
    "transaction_hash": "",
    "maker_orders": [
        {
            "order_id": OUR_ORDER,
            "owner": KEY,
            "matched_amount": "5",
            "price": "0.57",
            "asset_id": UP,
            "outcome": "Up",
            "side": "BUY",
        }
    ],
    "timestamp": "1780906702000",
}
ORDER: dict[str, Any] = {
    "event_type": "order",
    "id": OUR_ORDER,
    "owner": KEY,
    "market": CID,
    "asset_id": UP,
    "side": "BUY",
    "price": "0.57",
    "original_size": "10",
    "size_matched": "0",
    "outcome": "Up",
    "type": "PLACEMENT",
    "status": "LIVE",
    "order_type": "GTC",
    "created_at": 1780906650,
    "timestamp": "1780906650000",
}


def one(obj: Any, **kwargs: Any) -> Fill | OrderUpdate:
    parsed = parse_user_frame(json.dumps(obj), RECV, **kwargs)
    assert parsed.rejects == ()
    (event,) = parsed.events
    assert isinstance(event, Fill | OrderUpdate)
    return event


def test_maker_trade_example_reads_our_maker_order():
    fill = one(TRADE, our_api_key=KEY)
    assert isinstance(fill, Fill)
    assert (fill.venue_order_id, fill.token_id, fill.side) == (OUR_ORDER, UP, Side.BUY)
    assert (fill.price, fill.size, fill.fee_usd, fill.is_maker) == (D("0.57"), D("5"), D(0), True)
    assert (fill.status, fill.mode, fill.trade_id) == (TradeStatus.MATCHED, TradingMode.LIVE, TRADE["id"])
    assert fill.source_id == f"{TRADE['id']}:MATCHED"
    assert fill.source_ts == datetime(2026, 6, 8, 8, 18, 22, tzinfo=UTC)
    assert fill.window_id is None


def test_each_status_of_a_trade_is_a_new_fill_id():
    ids = [one({**TRADE, "status": s}, our_api_key=KEY).source_id for s in ("MATCHED", "MINED", "CONFIRMED")]  # type: ignore[union-attr]
    assert len(set(ids)) == 3
    failed = one({**TRADE, "status": "FAILED"}, our_api_key=KEY)
    assert isinstance(failed, Fill) and failed.status is TradeStatus.FAILED


def test_taker_trade_uses_the_trade_fields_and_estimates_the_fee_from_the_rate():
    fill = one({**TRADE, "trader_side": "TAKER"}, our_api_key=KEY)
    assert isinstance(fill, Fill)
    assert (fill.venue_order_id, fill.token_id, fill.price, fill.is_maker) == (
        TAKER_ORDER,
        DOWN,
        D("0.43"),
        False,
    )
    assert fill.fee_usd == D("0.12255")  # 5 * 0.1 * 0.43 * 0.57
    no_rate = one({**TRADE, "trader_side": "TAKER", "fee_rate_bps": None}, our_api_key=KEY)
    assert isinstance(no_rate, Fill) and no_rate.fee_usd == 0


def test_fee_estimate_rounds_to_five_decimals():
    assert taker_fee_estimate(D("10"), D("0.5"), 700) == D("0.17500")
    assert taker_fee_estimate(D("3"), D("0.333"), 1000) == D("0.06663")
    assert taker_fee_estimate(D("3"), D("0.333"), None) == 0


def test_a_maker_trade_with_several_makers_needs_our_key():
    other = {**TRADE["maker_orders"][0], "order_id": "0x" + "9" * 64, "owner": "someone-else"}
    frame = {**TRADE, "maker_orders": [other, TRADE["maker_orders"][0]]}
    assert parse_user_frame(json.dumps(frame), RECV).rejects
    fill = one(frame, our_api_key=KEY)
    assert isinstance(fill, Fill) and fill.venue_order_id == OUR_ORDER
    assert parse_user_frame(json.dumps(frame), RECV, our_api_key="nobody").rejects


def test_order_placement_update_cancellation():
    placed = one(ORDER, windows={CID: "btc-updown-5m-1780906500"})
    assert isinstance(placed, OrderUpdate)
    assert placed.client_order_id == "venue-7fbba6e122b776927b92a82a"
    assert placed.client_order_id == venue_client_order_id(OUR_ORDER)
    assert (placed.status, placed.window_id, placed.size, placed.price) == (
        OrderStatus.LIVE,
        "btc-updown-5m-1780906500",
        D("10"),
        D("0.57"),
    )
    assert placed.event_ts == from_s(1780906650)
    partial = one({**ORDER, "type": "UPDATE", "size_matched": "4"})
    assert isinstance(partial, OrderUpdate) and partial.status is OrderStatus.PARTIALLY_FILLED
    assert partial.window_id == CID
    full = one({**ORDER, "type": "UPDATE", "size_matched": "10", "status": "MATCHED"})
    assert isinstance(full, OrderUpdate) and full.status is OrderStatus.FILLED
    cancelled = one({**ORDER, "type": "CANCELLATION", "status": "CANCELED"})
    assert isinstance(cancelled, OrderUpdate) and cancelled.status is OrderStatus.CANCELED
    resolved = one({**ORDER, "type": "UPDATE", "status": "ORDER_STATUS_CANCELED_MARKET_RESOLVED"})
    assert isinstance(resolved, OrderUpdate) and resolved.status is OrderStatus.CANCELED


def test_times_in_seconds_or_milliseconds():
    seconds = one({**ORDER, "timestamp": "1780906650"})
    millis = one({**ORDER, "timestamp": "1780906650000"})
    assert seconds.event_ts == millis.event_ts  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "frame",
    [
        {**TRADE, "status": "WEIRD"},
        {**TRADE, "price": 0.43},
        {k: v for k, v in TRADE.items() if k != "taker_order_id"},
        {**TRADE, "timestamp": None, "match_time": None, "last_update": None},
        {**ORDER, "status": "SOMETHING"},
        {**ORDER, "id": "not-an-order-id"},
        {"event_type": "notification"},
    ],
)
def test_unusable_frames_give_reasons(frame):
    parsed = parse_user_frame(json.dumps(frame), RECV, our_api_key=KEY)
    assert parsed.events == () and len(parsed.rejects) == 1


def test_pong_is_control_and_garbage_is_a_reject():
    assert parse_user_frame("PONG", RECV).control
    assert parse_user_frame("{", RECV).rejects


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(raw):
    parse_user_frame(raw, RECV, our_api_key=KEY)


def test_simulator_user_frames_parse_for_both_roles():
    market = open_window_market()
    exchange = Exchange(SimulatorConfig(trade_mined_delay_s=0, trade_confirmed_delay_s=0))
    frames: list[dict[str, Any]] = []
    exchange.listeners.append(lambda m: frames.append(m.payload) if isinstance(m, UserMessage) else None)
    exchange.add_market(market)
    me = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"
    exchange.set_balance(me, "COLLATERAL", D(1000))
    exchange.place_liquidity(UP, "SELL", D("0.55"), D("100"))
    exchange.submit(
        OrderRequest("0x" + "12" * 32, me, UP, "BUY", D("0.55"), D("10"), api_key=KEY, maker_address=me)
    )
    exchange.submit(
        OrderRequest("0x" + "13" * 32, me, UP, "BUY", D("0.50"), D("10"), api_key=KEY, maker_address=me)
    )
    exchange.place_liquidity(DOWN, "BUY", D("0.5"), D("5"))
    exchange.pump(float("inf"))
    fills: list[Fill] = []
    orders: list[OrderUpdate] = []
    for frame in frames:
        parsed = parse_user_frame(json.dumps(frame), RECV, our_api_key=KEY)
        assert parsed.rejects == (), (frame, parsed.rejects)
        fills += [e for e in parsed.events if isinstance(e, Fill)]
        orders += [e for e in parsed.events if isinstance(e, OrderUpdate)]
    taker = [f for f in fills if not f.is_maker]
    maker = [f for f in fills if f.is_maker]
    assert {f.status for f in taker} >= {TradeStatus.MATCHED}
    assert (
        taker[0].venue_order_id == "0x" + "12" * 32 and taker[0].price == D("0.55") and taker[0].fee_usd > 0
    )
    assert maker and maker[0].venue_order_id == "0x" + "13" * 32 and maker[0].size == D("5")
    assert maker[0].token_id == UP and maker[0].price == D("0.5") and maker[0].fee_usd == 0
    assert len({f.source_id for f in fills}) == len(fills)
    assert any(o.status is OrderStatus.LIVE for o in orders)
    assert any(o.status is OrderStatus.PARTIALLY_FILLED for o in orders)
