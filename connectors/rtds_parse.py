"""RTDS frames -> OracleTick (Chainlink spot and TWAP) and SpotTick (Binance) (POLYMARKET.md §9).

Prices come from `full_accuracy_value` (E18 integers on Chainlink and TWAP topics, a plain decimal
on Binance), never from the float `value`. Quirks handled: the Chainlink-spot subscribe backfill
arrives labelled `crypto_prices` and is told apart by its symbol form (`btc/usd`, not `btcusdt`);
the error envelope `{"body":{"message":…},"statusCode":401}` is a reject; the empty frame sent at
connect is control. Backfill points of the Chainlink-spot and Binance topics carry only the display
number: its JSON text is read exactly (never through a float) and its `source_id` is marked with
"~" so that a consumer never lets it replace an exact print of the same second.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.frames import frame_text, load_json
from connectors.parsing import Parsed
from core.enums import OracleStream
from core.models import Event, OracleTick, SpotTick
from core.money import from_e18, parse_decimal
from core.timestamps import from_ms

__all__ = ["BINANCE_VENUE", "parse_rtds_frame"]

BINANCE_VENUE = "binance"
_BINANCE_TOPIC = "crypto_prices"
_CHAINLINK_TOPICS = {
    "crypto_prices_chainlink": (OracleStream.CHAINLINK_SPOT, None),
    "crypto_prices_twap_thirty": (OracleStream.CHAINLINK_TWAP_30, 30),
    "crypto_prices_twap_sixty": (OracleStream.CHAINLINK_TWAP_60, 60),
}


class _Unusable(ValueError):
    """A frame or point we cannot use; the message is the reject reason."""


def parse_rtds_frame(raw: str | bytes, recv_ts: datetime) -> Parsed:
    """One RTDS frame -> oracle and spot ticks; `source_ts` is the observation time.

    `source_id` is f"{stream}:{symbol}:{observation ms}:{full_accuracy_value}" (stream = the
    OracleStream name, or "binance"): a same-second correction has a new value, hence a new id.
    A bad point of a backfill rejects only itself.
    """
    text = frame_text(raw)
    if text == "":
        return Parsed(control=True)
    value, why = load_json(raw, exact_floats=True)
    if why is not None:
        return Parsed.reject(why)
    if not isinstance(value, dict):
        return Parsed.reject(f"rtds frame is not a JSON object: {type(value).__name__}")
    if "statusCode" in value and "topic" not in value:
        body = value.get("body")
        message = body.get("message") if isinstance(body, dict) else body
        return Parsed.reject(f"rtds error {value.get('statusCode')}: {str(message)[:300]}")
    try:
        return _frame(value, recv_ts)
    except (_Unusable, ValueError, TypeError, ArithmeticError) as exc:
        return Parsed.reject(f"rtds {value.get('topic')!r}/{value.get('type')!r}: {str(exc)[:200]}")


def _frame(frame: dict[str, Any], recv_ts: datetime) -> Parsed:
    topic, kind, payload = frame.get("topic"), frame.get("type"), frame.get("payload")
    if not isinstance(payload, dict):
        raise _Unusable("no payload object")
    symbol = payload.get("symbol")
    if not isinstance(symbol, str):
        raise _Unusable("payload without a symbol")
    stream = _stream_of(topic, symbol, payload.get("window_s"))
    if kind == "update":
        return Parsed(events=(_tick(stream, symbol, payload, recv_ts, backfill=False),))
    if kind == "subscribe":
        points = payload.get("data")
        if not isinstance(points, list):
            raise _Unusable("subscribe backfill without a data array")
        events: list[Event] = []
        rejects: list[str] = []
        for index, point in enumerate(points):
            try:
                if not isinstance(point, dict):
                    raise _Unusable("not an object")
                events.append(_tick(stream, symbol, point, recv_ts, backfill=True))
            except (_Unusable, ValueError, TypeError, ArithmeticError) as exc:
                rejects.append(f"rtds {topic} backfill point {index}: {str(exc)[:200]}")
        return Parsed(events=tuple(events), rejects=tuple(rejects))
    raise _Unusable(f"unknown frame type {kind!r}")


def _stream_of(topic: Any, symbol: str, window_s: Any) -> OracleStream | None:
    """The Chainlink stream of a frame, or None for Binance; the symbol form overrides a
    `crypto_prices` label (the mislabelled Chainlink-spot backfill)."""
    if topic == _BINANCE_TOPIC:
        return OracleStream.CHAINLINK_SPOT if "/" in symbol else None
    if topic not in _CHAINLINK_TOPICS:
        raise _Unusable(f"unknown topic {topic!r}")
    stream, window = _CHAINLINK_TOPICS[topic]
    if window_s is not None and window_s != window:
        raise _Unusable(f"window_s {window_s!r} on {topic}")
    if "/" not in symbol:
        raise _Unusable(f"symbol {symbol!r} is not a Chainlink pair")
    return stream


def _observation_ms(point: dict[str, Any]) -> int:
    ms = point.get("timestamp")
    if not isinstance(ms, int) or isinstance(ms, bool) or ms <= 0:
        raise _Unusable(f"observation timestamp {ms!r} is not a positive integer")
    return ms


def _price(stream: OracleStream | None, point: dict[str, Any], backfill: bool) -> tuple[Decimal, str]:
    """(price, text for the source id) from `full_accuracy_value`; display-only backfill points
    fall back to the exact text of `value`, marked "~"."""
    full = point.get("full_accuracy_value")
    if full is None:
        shown = point.get("value")
        if not backfill or not isinstance(shown, Decimal | int) or isinstance(shown, bool):
            raise _Unusable("no full_accuracy_value")
        return parse_decimal(shown), f"~{shown}"
    if not isinstance(full, str):
        raise _Unusable(f"full_accuracy_value {full!r} is not a string")
    if stream is None:
        return parse_decimal(full), full
    if not full.isdigit():
        raise _Unusable(f"full_accuracy_value {full!r} is not an E18 integer")
    return from_e18(full), full


def _tick(
    stream: OracleStream | None, symbol: str, point: dict[str, Any], recv_ts: datetime, *, backfill: bool
) -> OracleTick | SpotTick:
    ms = _observation_ms(point)
    price, price_text = _price(stream, point, backfill)
    if stream is None:
        return SpotTick(
            source_ts=from_ms(ms),
            recv_ts=recv_ts,
            source_id=f"{BINANCE_VENUE}:{symbol}:{ms}:{price_text}",
            symbol=symbol,
            venue=BINANCE_VENUE,
            price=price,
        )
    return OracleTick(
        source_ts=from_ms(ms),
        recv_ts=recv_ts,
        source_id=f"{stream.value}:{symbol}:{ms}:{price_text}",
        symbol=symbol,
        stream=stream,
        price=price,
    )
