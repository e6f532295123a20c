"""Binance USD-M golden vectors (fixtures/rtds-binance-frames): aggTrade, bookTicker, kline -> SpotTick."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.spot_parse import parse_binance_frame
from core.models import SpotTick
from core.timestamps import from_ms
from tests.contract.vectors import RECV, fixture


@pytest.mark.parametrize(
    ("name", "price", "ms", "source_id"),
    [
        ("aggTrade", "83091.70", 1791382992338, "binance_usdm:btcusdt:aggTrade:3477868433"),
        ("bookTicker", "83091.65", 1791382994657, "binance_usdm:btcusdt:bookTicker:11757092630476"),
        ("kline_1m", "83091.60", 1791382992723, "binance_usdm:btcusdt:kline_1m:1791382980000:1791382992723"),
    ],
)
def test_recorded_frames(name, price, ms, source_id):
    raw = fixture("rtds-binance-frames", f"binance_usdm_btcusdt_{name}.json").read_bytes()
    parsed = parse_binance_frame(raw, RECV)
    assert not parsed.rejects
    (tick,) = parsed.events
    assert isinstance(tick, SpotTick)
    assert (tick.symbol, tick.venue) == ("btcusdt", "binance_usdm")
    assert tick.price == Decimal(price)
    assert (tick.source_ts, tick.recv_ts, tick.source_id) == (from_ms(ms), RECV, source_id)


@pytest.mark.parametrize(
    "frame",
    [
        "nope",
        '{"stream":"x","data":{"e":"depthUpdate","s":"BTCUSDT","T":1}}',
        '{"stream":"x","data":{"e":"aggTrade","s":"BTCUSDT","p":83091.7,"T":1}}',
        '{"e":"aggTrade","s":"BTCUSDT","p":"1"}',
        "[]",
    ],
)
def test_unusable_frames_are_rejected(frame):
    parsed = parse_binance_frame(frame, RECV)
    assert parsed.events == () and len(parsed.rejects) == 1


@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(raw):
    parse_binance_frame(raw, RECV)
