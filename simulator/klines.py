"""Binance spot 1-hour candles built from the Binance prints the scenario relays (POLYMARKET.md §3).

Hourly windows settle on the Binance BTC/USDT 1-hour candle: open = the print at the hour's first
second, close = the print at its last second (`simulator.settle`). The candles here are built from
the same prints (the `crypto_prices` feed the scenario stores), so they carry exactly the open and
close those windows resolve on. A candle exists once its first print is relayed, its close is the
latest print so far, and it is closed (`x: true`) when the symbol's first print of a later hour
arrives; a print arriving for an already closed hour is ignored.

The simulator does not simulate trades: each relayed print counts as one trade of one unit (volume =
trade count, quote volume = sum of prices; taker-buy = the upticks). `KlineBook` keeps at most
`keep` candles per symbol (Binance serves at most 1000 per request) and drops the oldest.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from simulator.oracle import BINANCE, FeedPoint

HOUR_MS = 3_600_000
INTERVAL = "1h"
MAX_LIMIT = 1000
Json = dict[str, Any]


def binance_symbol(asset: str) -> str:
    """`btc` -> `BTCUSDT`, the spot pair hourly windows settle on."""
    return f"{asset.upper()}USDT"


def _fmt(value: Decimal) -> str:
    return f"{value:.8f}"


@dataclass(slots=True)
class Candle:
    """One symbol's 1-hour candle as far as the relayed prints go."""

    symbol: str
    open_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    first_trade: int
    last_trade: int
    trades: int = 1
    quote_volume: Decimal = Decimal(0)
    taker_buys: int = 0
    taker_buy_quote: Decimal = Decimal(0)
    closed: bool = False

    @property
    def close_ms(self) -> int:
        return self.open_ms + HOUR_MS - 1

    def add(self, price: Decimal, trade_id: int) -> None:
        if price > self.close:
            self.taker_buys += 1
            self.taker_buy_quote += price
        self.high, self.low, self.close = max(self.high, price), min(self.low, price), price
        self.trades += 1
        self.last_trade = trade_id
        self.quote_volume += price

    def rest_row(self) -> list[Any]:
        """`GET /api/v3/klines` row: [openTime, o, h, l, c, volume, closeTime, quote, n, buyBase, buyQuote, "0"]."""
        return [
            self.open_ms,
            _fmt(self.open),
            _fmt(self.high),
            _fmt(self.low),
            _fmt(self.close),
            _fmt(Decimal(self.trades)),
            self.close_ms,
            _fmt(self.quote_volume),
            self.trades,
            _fmt(Decimal(self.taker_buys)),
            _fmt(self.taker_buy_quote),
            "0",
        ]

    def stream_event(self, event_ms: int) -> Json:
        """The `<symbol>@kline_1h` event payload, as Binance's websocket streams send it."""
        return {
            "e": "kline",
            "E": event_ms,
            "s": self.symbol,
            "k": {
                "t": self.open_ms,
                "T": self.close_ms,
                "s": self.symbol,
                "i": INTERVAL,
                "f": self.first_trade,
                "L": self.last_trade,
                "o": _fmt(self.open),
                "c": _fmt(self.close),
                "h": _fmt(self.high),
                "l": _fmt(self.low),
                "v": _fmt(Decimal(self.trades)),
                "n": self.trades,
                "x": self.closed,
                "q": _fmt(self.quote_volume),
                "V": _fmt(Decimal(self.taker_buys)),
                "Q": _fmt(self.taker_buy_quote),
                "B": "0",
            },
        }


Listener = Callable[[Candle, int], None]


class KlineBook:
    """1-hour candles per symbol (`BTCUSDT`...), fed with every relayed print; listeners hear each change.

    A listener is called with (candle, event ms = the print's relay time) after every update, and once
    with the finished candle (`closed` true) when the next hour's first print arrives.
    """

    def __init__(self, symbols: Iterable[str], keep: int = MAX_LIMIT) -> None:
        self._candles: dict[str, deque[Candle]] = {s: deque(maxlen=keep) for s in symbols}
        self._trade_ids: dict[str, int] = dict.fromkeys(self._candles, 0)
        self.listeners: list[Listener] = []

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self._candles)

    def add(self, point: FeedPoint) -> None:
        """Take one print; only the Binance topic (`crypto_prices`, `btcusdt`) of a known symbol counts."""
        if point.topic != BINANCE:
            return
        symbol = point.symbol.upper()
        candles = self._candles.get(symbol)
        if candles is None:
            return
        open_ms = point.ts_ms - point.ts_ms % HOUR_MS
        self._trade_ids[symbol] += 1
        trade_id = self._trade_ids[symbol]
        current = candles[-1] if candles else None
        if current is not None and open_ms < current.open_ms:
            return  # a late print for an hour already closed
        if current is not None and open_ms == current.open_ms:
            current.add(point.price, trade_id)
        else:
            if current is not None:
                current.closed = True
                self._tell(current, point.publish_ms)
            price = point.price
            current = Candle(symbol, open_ms, price, price, price, price, trade_id, trade_id)
            current.quote_volume = price
            candles.append(current)
        self._tell(current, point.publish_ms)

    def _tell(self, candle: Candle, event_ms: int) -> None:
        for listener in self.listeners:
            listener(candle, event_ms)

    def candles(
        self, symbol: str, start_ms: int | None = None, end_ms: int | None = None, limit: int = 500
    ) -> list[Candle]:
        """Candles with start <= open time <= end: the first `limit` from `start_ms`, else the last `limit`."""
        chosen = [
            c
            for c in self._candles.get(symbol, ())
            if (start_ms is None or c.open_ms >= start_ms) and (end_ms is None or c.open_ms <= end_ms)
        ]
        return chosen[:limit] if start_ms is not None else chosen[-limit:]
