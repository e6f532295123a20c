"""Window discovery from Gamma (POLYMARKET.md §2) -> md.windows, and the venue clock from `/time`.

Every `poll_s` the slugs of the previous, current and next windows of each configured asset and
interval (5m, 15m, 4h: `{asset}-updown-{5m|15m|4h}-{start}`; hourly: `{name}-up-or-down-{month}-
{day}-{year}-{h}{am|pm}-et` in New York time) are asked for in one `GET /markets` call. A window is emitted when first seen (DISCOVERED, or its current phase) and again at each
phase change (OPEN, CLOSED, RESOLVED with the venue's outcome). Before a window is first emitted
its token ids are checked against the CLOB (`GET /book` must answer for both), because trading a
token the CLOB does not know fails only at order time. Only the CLOB's definite not-found marks a
window invalid; a transient failure (429, 5xx, timeout) or another refusal leaves it unmarked, so
the next round asks again (core/venue_errors.py classifies). A window is forgotten once its slug
is no longer asked for (core/window_phases.py), and `on_forget` is told, so whoever follows its
tokens can forget them too: memory stays flat however long the process runs. After a window
resolves, its Gamma event is asked for (`GET /events`, one call for all waiting windows) until its
`eventMetadata` shows the venue's `priceToBeat`/`finalPrice` (about a minute later), then
`on_prices` (an attribute the owner sets) is told, once.
"""

from __future__ import annotations

import asyncio
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta

import httpx
import structlog

from connectors.polymarket.gamma_parse import VenuePrices, loads_exact, parse_event_prices
from connectors.polymarket.parse import parse_gamma_market
from connectors.polymarket.slugs import hourly_slug
from connectors.ws_runner import EventSink
from core.clock import ClockSample, round_trip_sample
from core.enums import WindowPhase
from core.models import WindowEvent
from core.timestamps import from_s
from core.venue_errors import Remedy, classify
from core.window_phases import WindowPhases

log = structlog.get_logger(__name__)

_LABELS = {300: "5m", 900: "15m", 14_400: "4h"}
HOURLY_S = 3600
PRICES_WAIT = timedelta(hours=1)  # after the window's end, stop asking for its eventMetadata


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
    """Polls Gamma, validates tokens on the CLOB, emits phase changes, tells `on_window` about each
    and `on_forget` about each window dropped from its memory (the latest event emitted for it)."""

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
        on_forget: Callable[[WindowEvent], None] = lambda _e: None,
        back: int = 2,
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
        self._on_forget = on_forget
        self.windows = WindowPhases(back)
        self.rejects: deque[str] = deque(maxlen=100)  # the latest, for a look; `counts` has them all
        self.counts: Counter[str] = Counter()
        self._sleep = sleep  # the process clock's sleep: `poll_s` is in that clock's seconds

        self.on_prices: Callable[[WindowEvent, VenuePrices], None] = lambda _w, _p: None
        self.awaiting_prices: dict[str, WindowEvent] = {}  # resolved, eventMetadata not seen yet

    async def run(self) -> None:
        while True:
            try:
                await self.poll()
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("gamma.poll_failed", error=f"{type(exc).__name__}: {str(exc)[:200]}")
            await self._sleep(self._poll_s)

    async def poll(self) -> list[WindowEvent]:
        """One discovery round; returns the events it emitted."""
        now = self._now()
        for gone in self.windows.expire(now):
            self._on_forget(gone)
        slugs = window_slugs(self._assets, self._intervals, now, self.windows.back)
        response = await self._gamma.get("/markets", params={"slug": slugs, "limit": 500})
        response.raise_for_status()
        recv_ts = self._now()
        emitted = []
        for obj in response.json():
            event = parse_gamma_market(obj, recv_ts)
            if isinstance(event, str):
                self.rejects.append(event)
                self.counts["rejects"] += 1
                continue
            if await self._take(event):
                emitted.append(event)
        await self._poll_prices(recv_ts)
        return emitted

    async def _poll_prices(self, now: datetime) -> None:
        """Ask Gamma for the events of resolved windows still without the venue's prices."""
        for window_id, window in list(self.awaiting_prices.items()):
            if now - window.end_ts > PRICES_WAIT:
                del self.awaiting_prices[window_id]
                log.warning("gamma.no_event_prices", window=window_id)
        if not self.awaiting_prices:
            return
        response = await self._gamma.get(
            "/events", params={"slug": sorted(self.awaiting_prices), "limit": 500}
        )
        response.raise_for_status()
        for obj in loads_exact(response.content):
            prices = parse_event_prices(obj)
            if isinstance(prices, str):
                self.rejects.append(prices)
                continue
            resolved = None if prices is None else self.awaiting_prices.pop(prices.window_id, None)
            if prices is not None and resolved is not None:
                self.on_prices(resolved, prices)

    async def _take(self, event: WindowEvent) -> bool:
        if not self.windows.is_news(event):
            return False
        if self.windows.needs_token_check(event):
            remedy = await self._check_tokens(event)
            if remedy is Remedy.DEFINITE:
                self.windows.mark_invalid(event)
                log.error("gamma.tokens_unknown_to_clob", window=event.window_id)
                return False
            if remedy is not None:
                return False  # asked again next round
        self.windows.emitted(event)
        self._sink.produce("md.windows", event)
        self._on_window(event)
        if event.phase is WindowPhase.RESOLVED:
            self.awaiting_prices[event.window_id] = event
        return True

    async def _check_tokens(self, event: WindowEvent) -> Remedy | None:
        """None when the CLOB has a book for both tokens, else the remedy of the first failure."""
        for token in (event.up_token_id, event.down_token_id):
            try:
                response = await self._clob.get("/book", params={"token_id": token})
            except httpx.TransportError as exc:
                status, error = None, f"{type(exc).__name__}: {str(exc)[:200]}"
            else:
                if response.status_code == 200:
                    continue
                status, error = response.status_code, _error_text(response)
            remedy = classify(status, error)
            self.counts[f"clob_{remedy.value.lower()}"] += 1
            if remedy is not Remedy.DEFINITE:
                log.warning(
                    "gamma.token_check_failed",
                    window=event.window_id,
                    status=status,
                    error=error,
                    remedy=remedy.value,
                )
            return remedy
        return None


def _error_text(response: httpx.Response) -> str:
    """The venue's `{"error": ...}` text, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    error = body.get("error") if isinstance(body, dict) else None
    return str(error)[:200] if error is not None else response.text[:200]


async def venue_clock(
    clob: httpx.AsyncClient, now: Callable[[], datetime], source: str = "clob"
) -> ClockSample:
    """Offset of the venue's `GET /time` (integer seconds, so ±0.5 s resolution) against ours."""
    sent = now()
    response = await clob.get("/time")
    received = now()
    response.raise_for_status()
    return round_trip_sample(source, sent, received, from_s(int(response.text.strip())), timedelta(seconds=1))
