"""Binance kline frames and REST klines -> Candle (md.spot). The recorded vectors are USD-M futures
captures (fixtures/rtds-binance-frames); spot klines have the same shape, so they are read as
shape vectors with the spot venue name."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from connectors.spot_parse import BINANCE_SPOT_VENUE, parse_kline_frame, parse_kline_rows
from core.models import Candle
from core.timestamps import from_ms
from tests.contract.vectors import RECV, fixture


def test_a_recorded_kline_frame_is_a_running_candle() -> None:
    raw = fixture("rtds-binance-frames", "binance_usdm_btcusdt_kline_1m.json").read_bytes()
    parsed = parse_kline_frame(raw, RECV)
    assert not parsed.rejects
    (candle,) = parsed.events
    assert isinstance(candle, Candle)
    assert (candle.symbol, candle.venue, candle.interval_s, candle.closed) == (
        "btcusdt",
        "binance",
        60,
        False,
    )
    assert (candle.open, candle.close, candle.high, candle.low) == (
        Decimal("83084.90"),
        Decimal("83091.60"),
        Decimal("83091.70"),
        Decimal("83051.20"),
    )
    assert candle.open_ts == from_ms(1791382980000) and candle.source_ts == from_ms(1791382992723)
    assert candle.source_id == "binance:btcusdt:kline_1m:1791382980000:1791382992723"


def test_the_final_frame_of_a_candle_has_the_same_id_as_its_rest_row() -> None:
    frame = json.loads(fixture("rtds-binance-frames", "binance_usdm_btcusdt_kline_1m.json").read_text())
    frame["data"]["k"]["x"] = True
    (final,) = parse_kline_frame(json.dumps(frame), RECV).events
    row = [
        1791382980000,
        "83084.90",
        "83091.70",
        "83051.20",
        "83091.60",
        "1",
        1791383039999,
        "1",
        1,
        "1",
        "1",
        "0",
    ]
    later = [
        1791383040000,
        "83091.60",
        "83091.60",
        "83091.60",
        "83091.60",
        "1",
        1791383099999,
        "1",
        1,
        "1",
        "1",
        "0",
    ]
    rows, rejects = parse_kline_rows([row, later], "BTCUSDT", RECV + timedelta(minutes=5))
    assert not rejects
    assert isinstance(final, Candle) and final.closed and rows[0].closed
    assert final.source_id == rows[0].source_id


def test_recorded_rest_klines_all_but_the_running_last_are_closed() -> None:
    body = json.loads(fixture("rtds-binance-frames", "binance_usdm_rest_klines.json").read_text())
    recv = from_ms(1791383000000)  # inside the second bar's minute
    rows, rejects = parse_kline_rows(body, "BTCUSDT", recv)
    assert not rejects
    assert [c.closed for c in rows] == [True, False]
    assert [c.open for c in rows] == [Decimal("83137.90"), Decimal("83084.90")]
    assert rows[0].close == Decimal("83084.90") and rows[0].interval_s == 60
    assert all(c.recv_ts == recv and c.venue == BINANCE_SPOT_VENUE for c in rows)


def test_a_last_row_whose_close_time_has_passed_is_closed() -> None:
    body = json.loads(fixture("rtds-binance-frames", "binance_usdm_rest_klines.json").read_text())
    rows, _ = parse_kline_rows(body, "BTCUSDT", from_ms(1791383040000))
    assert [c.closed for c in rows] == [True, True]


@pytest.mark.parametrize(
    "frame",
    [
        "nope",
        '{"stream":"btcusdt@kline_1h","data":{"e":"kline","E":1,"s":"BTCUSDT"}}',
        '{"stream":"btcusdt@kline_1h","data":{"e":"kline","E":1,"s":"BTCUSDT","k":{"t":0,"i":"1h","o":"1",'
        '"c":"1","h":"1","l":"1","x":false}}}',
        '{"stream":"btcusdt@kline_1h","data":{"e":"kline","E":1,"s":"BTCUSDT","k":{"t":3600000,"i":"7h",'
        '"o":"1","c":"1","h":"1","l":"1","x":false}}}',
        '{"stream":"btcusdt@kline_1h","data":{"e":"kline","E":1,"s":"BTCUSDT","k":{"t":3600000,"i":"1h",'
        '"o":1.5,"c":"1","h":"1","l":"1","x":false}}}',
        '{"stream":"btcusdt@kline_1h","data":{"e":"aggTrade","E":1,"s":"BTCUSDT"}}',
    ],
)
def test_bad_frames_are_rejected_with_a_reason(frame: str) -> None:
    parsed = parse_kline_frame(frame, RECV)
    assert parsed.rejects and not parsed.events


def test_subscription_replies_and_empty_frames_are_control() -> None:
    assert parse_kline_frame('{"result":null,"id":1}', RECV).control
    assert parse_kline_frame("", RECV).control


def test_bad_rest_rows_are_rejected_one_by_one() -> None:
    good = [3600000, "1", "2", "0.5", "1.5", "1", 7199999, "1", 1, "1", "1", "0"]
    rows, rejects = parse_kline_rows([good, ["x"], [3600000, 1.5]], "BTCUSDT", from_ms(3600000))
    assert len(rows) == 1 and len(rejects) == 2
    rows, rejects = parse_kline_rows({"code": -1121, "msg": "Invalid symbol."}, "BTCUSDT", RECV)
    assert rows == [] and rejects
