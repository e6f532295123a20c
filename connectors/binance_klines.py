"""Binance spot klines -> md.spot Candles: the 1-hour candles hourly windows settle on (POLYMARKET.md §3).

A `ws_runner.Channel`, so the runner gives it what every feed gets (reconnect with backoff, gaps,
quarantine, de-duplication), and a `PriceSource` like RTDS. The combined stream
`{ws_base}/stream?streams=btcusdt@kline_1h/...` names its streams in the URL, so nothing is sent on
connect; Binance pings at the protocol level and the socket library answers. A dropped socket loses
the candle updates meanwhile (including a candle's final `x: true` frame), so after every
(re)connect the last `backfill` candles of each symbol are read from REST `GET {rest_base}/api/v3/
klines` (the running one included), like the market channel's book resync. A closed candle has
the same source id from the stream and from REST, so it reaches the topic once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

import httpx
import structlog

from connectors.parsing import Parsed
from connectors.spot_parse import parse_kline_frame, parse_kline_rows
from core.feed_monitor import CompletenessRule
from core.models import Candle, Event

log = structlog.get_logger(__name__)

FEED = "binance.klines"


class BinanceKlineChannel:
    """Kline streams of `{asset}usdt` per asset; `rest` is an httpx client on the REST base URL."""

    completeness = CompletenessRule.CONNECTED  # updates every 1-2 s, not every second

    def __init__(
        self,
        ws_base: str,
        rest: httpx.AsyncClient,
        assets: Iterable[str],
        *,
        interval: str = "1h",
        backfill: int = 3,
        feed: str = FEED,
        on_candle: Callable[[Candle], None] = lambda _c: None,
    ) -> None:
        if not 1 <= backfill <= 1000:
            raise ValueError(f"backfill must be 1..1000 candles, got {backfill}")
        self.feed = feed
        self._ws_base = ws_base.rstrip("/")
        self._rest = rest
        self._symbols = sorted({f"{a}usdt" for a in assets})
        self._interval = interval
        self._backfill = backfill
        self._on_candle = on_candle
        self.counts: Counter[str] = Counter()

    def url(self) -> str:
        streams = "/".join(f"{s}@kline_{self._interval}" for s in self._symbols)
        return f"{self._ws_base}/stream?streams={streams}"

    def subscribe_frames(self) -> Sequence[str]:
        return []

    def outgoing(self) -> Sequence[str]:
        return []

    def parse(self, raw: str | bytes, recv_ts: datetime) -> Parsed:
        return parse_kline_frame(raw, recv_ts)

    async def on_connected(self, recv_ts: Callable[[], datetime]) -> Sequence[Event]:
        """The last `backfill` candles of every symbol from REST (what the stream may have missed)."""
        candles: list[Event] = []
        for symbol in self._symbols:
            self.counts["resyncs"] += 1
            params: dict[str, str | int] = {
                "symbol": symbol.upper(),
                "interval": self._interval,
                "limit": self._backfill,
            }
            try:
                response = await self._rest.get("/api/v3/klines", params=params)
                response.raise_for_status()
                body = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                self.counts["resync_failed"] += 1
                log.warning(
                    "klines.backfill_failed", symbol=symbol, error=f"{type(exc).__name__}: {str(exc)[:200]}"
                )
                continue
            rows, rejects = parse_kline_rows(body, symbol, recv_ts(), self._interval)
            for reason in rejects:
                self.counts["resync_failed"] += 1
                log.warning("klines.backfill_refused", symbol=symbol, reason=reason)
            candles.extend(rows)
        return candles

    async def after_event(self, event: Event, recv_ts: Callable[[], datetime]) -> Sequence[Event]:
        if isinstance(event, Candle):
            self._on_candle(event)
        return []
