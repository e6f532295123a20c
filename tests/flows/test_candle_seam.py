"""The md.spot Candle model reaches the trading flow as the window state's `CandleOpen` seam: a real
Candle encoded on md.spot decodes into the open that is an hourly window's strike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.models import Candle
from core.serde import encode
from core.window_state import CandleOpen
from flows.trading import RawRecord, decode_record

HOUR = datetime(2026, 6, 8, 8, 0, tzinfo=UTC)


def test_an_md_spot_candle_decodes_into_the_candle_open_seam() -> None:
    candle = Candle(
        source_ts=HOUR + timedelta(seconds=3),
        recv_ts=HOUR + timedelta(seconds=3, milliseconds=40),
        source_id="binance:btcusdt:kline_1h:1780905600000:1780905603000",
        symbol="btcusdt",
        venue="binance",
        interval_s=3600,
        open_ts=HOUR,
        open=Decimal("100.1"),
        high=Decimal("100.5"),
        low=Decimal("100.0"),
        close=Decimal("100.4"),
        closed=False,
    )
    decoded = decode_record(RawRecord("md.spot", encode(candle), candle.recv_ts))
    assert isinstance(decoded, tuple), decoded
    assert decoded[1] == CandleOpen(
        "btcusdt", 3600, HOUR, Decimal("100.1"), Decimal("100.4"), HOUR + timedelta(seconds=3)
    )
