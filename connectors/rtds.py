"""Oracle and spot prices -> md.oracle (Chainlink spot and TWAP) and md.spot, behind `PriceSource`.

RTDS's price topics are marked legacy and its successor (PolyBolt, POLYMARKET.md §9.4) speaks
another protocol with credentials, so the transport is one implementation of `PriceSource`: a
successor is added as another channel for `WsRunner`, and nothing downstream changes (both produce
the same OracleTick / SpotTick events). RTDS never answers PINGs: liveness is judged by data age
(the runner's `stale_after_s`), and no PING is sent. The envelope's send stamp gives a one-way
clock sample now and then (update frames only: a backfill's stamp is not its send time).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from connectors.parsing import Parsed
from connectors.rtds_parse import parse_rtds_frame
from core.clock import ClockSample, one_way_sample
from core.feed_monitor import CompletenessRule
from core.models import Event, OracleTick
from core.timestamps import from_ms

FEED = "rtds"
CHAINLINK_TOPICS = ("crypto_prices_chainlink", "crypto_prices_twap_thirty", "crypto_prices_twap_sixty")
BINANCE_TOPIC = "crypto_prices"


class PriceSource(Protocol):
    """Anything that keeps md.oracle / md.spot fed until cancelled (a `WsRunner` over a channel)."""

    feed: str

    async def run(self) -> None: ...


class RtdsChannel:
    """A `ws_runner.Channel` for RTDS: Chainlink spot + TWAP topics per asset, Binance spot per asset."""

    completeness = CompletenessRule.PRINTS  # the oracle prints every second

    def __init__(
        self,
        url: str,
        assets: Iterable[str],
        *,
        twap_topics: bool = True,
        binance: bool = True,
        clock_every: timedelta = timedelta(seconds=60),
        feed: str = FEED,
        on_tick: Callable[[OracleTick], None] = lambda _t: None,
    ) -> None:
        self.feed = feed
        self._on_tick = on_tick
        self._url = url
        self._assets = sorted(set(assets))
        self._twap = twap_topics
        self._binance = binance
        self._clock_every = clock_every
        self._last_clock: datetime | None = None
        self.clock_samples: deque[ClockSample] = deque(maxlen=100)

    def url(self) -> str:
        return self._url

    def subscribe_frames(self) -> Sequence[str]:
        """One frame per topic: an unknown topic silences its whole batch (§9.3), so batches stay small."""
        topics = CHAINLINK_TOPICS if self._twap else CHAINLINK_TOPICS[:1]
        frames = []
        for topic in topics:
            subs = [
                {
                    "topic": topic,
                    "type": "*",
                    "filters": json.dumps({"symbol": f"{a}/usd"}, separators=(",", ":")),
                }
                for a in self._assets
            ]
            frames.append(json.dumps({"action": "subscribe", "subscriptions": subs}))
        if self._binance:
            subs = [
                {
                    "topic": BINANCE_TOPIC,
                    "type": "*",
                    "filters": json.dumps({"symbol": f"{a}usdt"}, separators=(",", ":")),
                }
                for a in self._assets
            ]
            frames.append(json.dumps({"action": "subscribe", "subscriptions": subs}))
        return frames

    def outgoing(self) -> Sequence[str]:
        return []

    def parse(self, raw: str | bytes, recv_ts: datetime) -> Parsed:
        self._maybe_clock(raw, recv_ts)
        return parse_rtds_frame(raw, recv_ts)

    async def on_connected(self, recv_ts: Callable[[], datetime]) -> Sequence[Event]:
        return []

    async def after_event(self, event: Event, recv_ts: Callable[[], datetime]) -> Sequence[Event]:
        if isinstance(event, OracleTick):
            self._on_tick(event)
        return []

    def _maybe_clock(self, raw: str | bytes, recv_ts: datetime) -> None:
        if self._last_clock is not None and recv_ts - self._last_clock < self._clock_every:
            return
        try:
            envelope = json.loads(raw)
            stamp = envelope.get("timestamp") if envelope.get("type") == "update" else None
        except (ValueError, AttributeError):
            return
        if isinstance(stamp, int) and stamp > 0:
            self._last_clock = recv_ts
            self.clock_samples.append(
                one_way_sample(self.feed, from_ms(stamp), recv_ts, timedelta(milliseconds=1))
            )
