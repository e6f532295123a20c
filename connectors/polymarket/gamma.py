"""Window discovery from Gamma (POLYMARKET.md §2) -> md.windows, and the venue clock from `/time`.

Every `poll_s` the slugs of the previous, current and next windows of each configured asset and
interval (5m, 15m, 4h: `{asset}-updown-{5m|15m|4h}-{start}`; hourly: `{name}-up-or-down-{month}-
{day}-{year}-{h}{am|pm}-et` in New York time) are asked for in one `GET /markets` call. A window is emitted when first seen (DISCOVERED, or its current phase) and again at each
phase change (OPEN, CLOSED, RESOLVED with the venue's outcome). Before a window is first emitted
its token ids are checked against the CLOB (`GET /book` must answer for both), because trading a
token the CLOB does not know fails only at order time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta

import httpx
import structlog

from connectors.polymarket.parse import parse_gamma_market
from connectors.polymarket.slugs import hourly_slug
from connectors.ws_runner import EventSink
from core.clock import ClockSample, round_trip_sample
from core.enums import WindowPhase
from core.models import WindowEvent
from core.timestamps import from_s

log = structlog.get_logger(__name__)

_LABELS = {300: "5m", 900: "15m", 14_400: "4h"}
HOURLY_S = 3600
_ORDER = [WindowPhase.DISCOVERED, WindowPhase.OPEN, WindowPhase.CLOSED, WindowPhase.RESOLVED]


def window_slugs(assets: Iterable[str], intervals: Iterable[int], now: datetime, back: int = 2) -> list[str]:
    """Slugs of the last `back` windows, the current one and the next, per asset and interval.

    ET hours start on UTC hours (New York's offsets are whole hours), so hourly starts are UTC hours
    named in New York time; the hour repeated when daylight time ends yields one slug, not two."""
    slugs: list[str] = []
    epoch = int(now.timestamp())
    for interval in intervals:
        label = _LABELS.get(interval)
        if label is None and interval != HOURLY_S:
            supported = sorted([*_LABELS, HOURLY_S])
            raise ValueError(f"no slug form for interval {interval} s; supported: {supported}")
        current = epoch - epoch % interval
        for asset in assets:
            starts = [current + k * interval for k in range(-back, 2)]
            if label is None:
                named = [hourly_slug(asset, datetime.fromtimestamp(s, UTC)) for s in starts]
                slugs += [s for i, s in enumerate(named) if s not in named[:i]]
            else:
                slugs += [f"{asset}-updown-{label}-{s}" for s in starts]
    return slugs


class WindowDiscovery:
    """Polls Gamma, validates tokens on the CLOB, emits phase changes, tells `on_window` about each."""

    feed = "polymarket.gamma"

    def __init__(
        self,
        gamma: httpx.AsyncClient,
        clob: httpx.AsyncClient,
        sink: EventSink,
        assets: Iterable[str],
        intervals: Iterable[int],
        now: Callable[[], datetime],
        on_window: Callable[[WindowEvent], None] = lambda _e: None,
        poll_s: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._gamma = gamma
        self._clob = clob
        self._sink = sink
        self._assets = sorted(set(assets))
        self._intervals = sorted(set(intervals))
        self._now = now
        self._on_window = on_window
        self._poll_s = poll_s
        self._sleep = sleep  # the process clock's sleep: `poll_s` is in that clock's seconds
        self.phases: dict[str, WindowPhase] = {}
        self.invalid: set[str] = set()
        self.rejects: list[str] = []

    async def run(self) -> None:
        while True:
            try:
                await self.poll()
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("gamma.poll_failed", error=f"{type(exc).__name__}: {str(exc)[:200]}")
            await self._sleep(self._poll_s)

    async def poll(self) -> list[WindowEvent]:
        """One discovery round; returns the events it emitted."""
        slugs = window_slugs(self._assets, self._intervals, self._now())
        response = await self._gamma.get("/markets", params={"slug": slugs, "limit": 500})
        response.raise_for_status()
        recv_ts = self._now()
        emitted = []
        for obj in response.json():
            event = parse_gamma_market(obj, recv_ts)
            if isinstance(event, str):
                self.rejects.append(event)
                continue
            if await self._take(event):
                emitted.append(event)
        return emitted

    async def _take(self, event: WindowEvent) -> bool:
        if event.window_id in self.invalid:
            return False
        known = self.phases.get(event.window_id)
        if known is not None and _ORDER.index(event.phase) <= _ORDER.index(known):
            return False
        fresh = known is None and event.phase in (WindowPhase.DISCOVERED, WindowPhase.OPEN)
        if fresh and not await self._tokens_known(event):
            self.invalid.add(event.window_id)
            log.error("gamma.tokens_unknown_to_clob", window=event.window_id)
            return False
        self.phases[event.window_id] = event.phase
        self._sink.produce("md.windows", event)
        self._on_window(event)
        return True

    async def _tokens_known(self, event: WindowEvent) -> bool:
        for token in (event.up_token_id, event.down_token_id):
            response = await self._clob.get("/book", params={"token_id": token})
            if response.status_code != 200:
                return False
        return True


async def venue_clock(
    clob: httpx.AsyncClient, now: Callable[[], datetime], source: str = "clob"
) -> ClockSample:
    """Offset of the venue's `GET /time` (integer seconds, so ±0.5 s resolution) against ours."""
    sent = now()
    response = await clob.get("/time")
    received = now()
    response.raise_for_status()
    return round_trip_sample(source, sent, received, from_s(int(response.text.strip())), timedelta(seconds=1))
