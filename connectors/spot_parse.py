"""Binance USD-M websocket frames -> SpotTick (stub: signature fixed, body follows)."""

from __future__ import annotations

from datetime import datetime

from connectors.parsing import Parsed


def parse_binance_frame(raw: str | bytes, recv_ts: datetime) -> Parsed:
    """One Binance combined-stream frame (aggTrade, bookTicker, kline) -> SpotTick."""
    return Parsed.reject("binance parser not implemented yet")
