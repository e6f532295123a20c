"""Binance USD-M futures websocket frames -> SpotTick: a direct exchange source behind the same
`(raw, recv_ts) -> Parsed` interface as the RTDS relay (fixtures/rtds-binance-frames).

`aggTrade` gives the trade price at its trade time `T`; `bookTicker` the exact mid of best bid and
ask at `T`; `kline` the running close of the candle at event time `E`. Futures prices differ
from spot ones, so the venue is named `binance_usdm`, never plain `binance`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.frames import frame_text, load_json
from connectors.parsing import Parsed
from core.models import SpotTick
from core.money import parse_decimal
from core.timestamps import from_ms

__all__ = ["BINANCE_USDM_VENUE", "parse_binance_frame"]

BINANCE_USDM_VENUE = "binance_usdm"
_TWO = Decimal(2)


def _ms(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{key} {value!r} is not a positive integer")
    return value


def _symbol(data: dict[str, Any]) -> str:
    value = data.get("s")
    if not isinstance(value, str) or not value.isalnum():
        raise ValueError(f"symbol {value!r}")
    return value.lower()


def _tick(data: dict[str, Any], recv_ts: datetime) -> SpotTick:
    kind = data.get("e")
    symbol = _symbol(data)
    if kind == "aggTrade":
        ms, price, key = _ms(data, "T"), parse_decimal(data.get("p")), f"aggTrade:{data.get('a')}"
    elif kind == "bookTicker":
        bid, ask = parse_decimal(data.get("b")), parse_decimal(data.get("a"))
        ms, price, key = _ms(data, "T"), (bid + ask) / _TWO, f"bookTicker:{data.get('u')}"
    elif kind == "kline":
        candle = data.get("k")
        if not isinstance(candle, dict):
            raise ValueError("kline without k")
        ms, price = _ms(data, "E"), parse_decimal(candle.get("c"))
        key = f"kline_{candle.get('i')}:{candle.get('t')}:{ms}"
    else:
        raise ValueError(f"unknown event type {kind!r}")
    return SpotTick(
        source_ts=from_ms(ms),
        recv_ts=recv_ts,
        source_id=f"{BINANCE_USDM_VENUE}:{symbol}:{key}",
        symbol=symbol,
        venue=BINANCE_USDM_VENUE,
        price=price,
    )


def parse_binance_frame(raw: str | bytes, recv_ts: datetime) -> Parsed:
    """One combined-stream frame (`{"stream":…, "data":{…}}`) or bare event -> one SpotTick.

    `source_id` is f"binance_usdm:{symbol}:{kind}:{venue id}" (aggregate trade id, book update id,
    or candle open time with event time), so a re-sent frame repeats its id.
    """
    if frame_text(raw) == "":
        return Parsed(control=True)
    value, why = load_json(raw)
    if why is not None:
        return Parsed.reject(why)
    data = value.get("data", value) if isinstance(value, dict) else value
    if not isinstance(data, dict):
        return Parsed.reject(f"binance frame is not a JSON object: {type(data).__name__}")
    try:
        return Parsed(events=(_tick(data, recv_ts),))
    except (ValueError, TypeError, ArithmeticError) as exc:
        return Parsed.reject(f"binance {data.get('e')!r}: {str(exc)[:200]}")
