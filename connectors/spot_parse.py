"""Binance websocket frames -> SpotTick / Candle: direct exchange sources behind the same
`(raw, recv_ts) -> Parsed` interface as the RTDS relay (fixtures/rtds-binance-frames).

USD-M futures (`parse_binance_frame`): `aggTrade` gives the trade price at its trade time `T`;
`bookTicker` the exact mid of best bid and ask at `T`; `kline` the running close of the candle at
event time `E`. Futures prices differ from spot ones, so that venue is named `binance_usdm`.

Spot klines (`parse_kline_frame`, `parse_kline_rows`): the candles hourly windows settle on
(POLYMARKET.md §3), venue `binance`. A stream frame says whether the candle is closed (`x`); a REST
row does not, so a row is closed when a later row follows it or its close time has passed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.frames import frame_text, load_json
from connectors.parsing import Parsed
from core.models import Candle, SpotTick
from core.money import parse_decimal
from core.timestamps import from_ms, to_ms

__all__ = [
    "BINANCE_SPOT_VENUE",
    "BINANCE_USDM_VENUE",
    "parse_binance_frame",
    "parse_kline_frame",
    "parse_kline_rows",
]

BINANCE_USDM_VENUE = "binance_usdm"
BINANCE_SPOT_VENUE = "binance"
INTERVALS_S = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14_400, "1d": 86_400}
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


def _interval_s(label: object) -> int:
    if not isinstance(label, str) or label not in INTERVALS_S:
        raise ValueError(f"interval {label!r}")
    return INTERVALS_S[label]


def _candle_id(symbol: str, label: str, open_ms: int, tail: str) -> str:
    """A closed candle has one id whichever way it arrives (final frame or REST row): de-duplicated."""
    return f"{BINANCE_SPOT_VENUE}:{symbol}:kline_{label}:{open_ms}:{tail}"


def _stream_candle(data: dict[str, Any], recv_ts: datetime) -> Candle:
    if data.get("e") != "kline":
        raise ValueError(f"unknown event type {data.get('e')!r}")
    k = data.get("k")
    if not isinstance(k, dict):
        raise ValueError("kline without k")
    symbol, event_ms, open_ms = _symbol(data), _ms(data, "E"), _ms(k, "t")
    label = k.get("i")
    interval = _interval_s(label)
    closed = k.get("x")
    if not isinstance(closed, bool):
        raise ValueError(f"x {closed!r} is not a boolean")
    return Candle(
        source_ts=from_ms(event_ms),
        recv_ts=recv_ts,
        source_id=_candle_id(symbol, str(label), open_ms, "closed" if closed else str(event_ms)),
        symbol=symbol,
        venue=BINANCE_SPOT_VENUE,
        interval_s=interval,
        open_ts=from_ms(open_ms),
        open=parse_decimal(k.get("o")),
        high=parse_decimal(k.get("h")),
        low=parse_decimal(k.get("l")),
        close=parse_decimal(k.get("c")),
        closed=closed,
    )


def parse_kline_frame(raw: str | bytes, recv_ts: datetime) -> Parsed:
    """One spot kline stream frame (combined `{"stream", "data"}` or bare) -> one Candle.

    `source_id` is f"binance:{symbol}:kline_{interval}:{open ms}:{event ms}", or `...:closed` for the
    candle's final frame (`x` true), the id its REST row gets too."""
    if frame_text(raw) == "":
        return Parsed(control=True)
    value, why = load_json(raw)
    if why is not None:
        return Parsed.reject(why)
    if isinstance(value, dict) and "id" in value and ("result" in value or "error" in value):
        return Parsed(control=True)  # the answer to a SUBSCRIBE / UNSUBSCRIBE command
    data = value.get("data", value) if isinstance(value, dict) else value
    if not isinstance(data, dict):
        return Parsed.reject(f"binance kline frame is not a JSON object: {type(data).__name__}")
    try:
        return Parsed(events=(_stream_candle(data, recv_ts),))
    except (ValueError, TypeError, ArithmeticError) as exc:
        return Parsed.reject(f"binance kline: {str(exc)[:200]}")


def _row_candle(row: object, symbol: str, label: str, closed: bool, recv_ts: datetime) -> Candle:
    if not isinstance(row, list) or len(row) < 7:
        raise ValueError(f"kline row {str(row)[:80]} has not the 12 Binance fields")
    open_ms = row[0]
    if not isinstance(open_ms, int) or isinstance(open_ms, bool) or open_ms < 0:
        raise ValueError(f"open time {open_ms!r}")
    return Candle(
        source_ts=recv_ts,  # a REST row has no event time: when we learned it
        recv_ts=recv_ts,
        source_id=_candle_id(
            symbol, label, open_ms, "closed" if closed else f"rest{row[8] if len(row) > 8 else ''}"
        ),
        symbol=symbol,
        venue=BINANCE_SPOT_VENUE,
        interval_s=INTERVALS_S[label],
        open_ts=from_ms(open_ms),
        open=parse_decimal(row[1]),
        high=parse_decimal(row[2]),
        low=parse_decimal(row[3]),
        close=parse_decimal(row[4]),
        closed=closed,
    )


def parse_kline_rows(
    body: object, symbol: str, recv_ts: datetime, interval: str | None = None
) -> tuple[list[Candle], list[str]]:
    """A `GET /api/v3/klines` answer (rows `[openTime, o, h, l, c, v, closeTime, ...]`, oldest first,
    the running candle last) -> Candles and reasons for the rows that are unusable. The interval is
    read from the row's span (closeTime + 1 - openTime) unless given."""
    if not isinstance(body, list):
        return [], [f"binance klines {symbol}: answer is not a list: {str(body)[:160]}"]
    candles: list[Candle] = []
    rejects: list[str] = []
    now_ms = to_ms(recv_ts)
    for i, row in enumerate(body):
        try:
            if not isinstance(row, list) or len(row) < 7 or not all(isinstance(row[j], int) for j in (0, 6)):
                raise ValueError(f"kline row {str(row)[:80]} has not the 12 Binance fields")
            label = interval or next(
                (name for name, s in INTERVALS_S.items() if s * 1000 == row[6] + 1 - row[0]), ""
            )
            _interval_s(label)
            closed = i < len(body) - 1 or row[6] < now_ms
            candles.append(_row_candle(row, symbol.lower(), label, closed, recv_ts))
        except (ValueError, TypeError, ArithmeticError) as exc:
            rejects.append(f"binance klines {symbol}: {str(exc)[:200]}")
    return candles, rejects
