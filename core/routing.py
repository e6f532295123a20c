"""The trading flow's loader: which window each market-data event belongs to, and whether it may
reach that window's state at all.

Book and trade events name a token, oracle and spot events a symbol, controls nothing; windows are
the key everything else is grouped by. The router learns token -> window and symbol -> windows from
`md.windows`, forgets a window when it resolves (or, if its resolution never arrives, once it ended
`retain_after_end` ago, sending the window an `Expire` so its state is dropped too), and hands each
window the current runtime controls just before its next market data when they moved since it last
got them (decisions are made on market data, so this is what a broadcast gave, without sending
every table read, five a second, to every live window). The filter "nothing stamped before the window's
start" (`admits`) lives here, in the loader, not in strategies; it holds for prints and trades, not
for a market's book events: `feeds` subscribes to a window's tokens before it starts, so its one
snapshot is stamped before the start and only deltas follow, and a book without it never syncs (no
5-minute window but the first was ever traded). Nothing decides before the start anyway: strategies
are not asked (`core.strategies.base.evaluate_guarded`) and risk refuses a window not open.
Pure: no I/O, no clock.

Partitioned routing (so that routing scales with workers): the routers are `buckets` keys. A book or
trade event goes to one bucket, its market's (`bucket_of(condition_id)`); window announcements,
oracle, spot and candle prints and controls are rare and go to every bucket (`route_keys`). Every
bucket's router therefore keeps the same tables as a single router would and routes exactly what the
single router routes, but only to the windows whose market is its own. Each window thus gets all its
inputs from one router key, in that key's input order: the same sequence as from one router, however
many workers run the buckets (a window fed by two keys would see their items interleaved by chance).
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.controls import RuntimeControls, apply_change, apply_snapshot
from core.enums import WindowPhase
from core.ids import WindowId
from core.models import (
    BestBidAsk,
    BookDelta,
    BookSnapshot,
    CompactBookSnapshot,
    ControlChange,
    ControlsSnapshot,
    LastTrade,
    OracleTick,
    SpotTick,
    TickSizeChange,
    WindowEvent,
)
from core.window_state import BookItem, CandleOpen

MAX_PENDING_SNAPSHOTS = 256
"""Book snapshots kept for tokens no window names yet (see `WindowRouter._market`)."""

__all__ = [
    "ControlsUpdate",
    "Expire",
    "RouteResult",
    "RouterInput",
    "WindowInput",
    "WindowRouter",
    "admits",
    "bucket_of",
    "route_keys",
]


@dataclass(frozen=True, slots=True)
class ControlsUpdate:
    """The controls every live window decides with from now on."""

    controls: RuntimeControls


@dataclass(frozen=True, slots=True)
class Expire:
    """The window ended long ago without a resolution event: drop its state."""

    at: datetime


MarketItem = BookItem | LastTrade | OracleTick | SpotTick | CandleOpen
RouterInput = WindowEvent | MarketItem | ControlChange | ControlsSnapshot
WindowInput = WindowEvent | MarketItem | ControlsUpdate | Expire


def bucket_of(condition_id: str, buckets: int) -> int:
    """The router bucket of a market: stable across processes and runs (not Python's `hash`)."""
    digest = hashlib.blake2b(condition_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % buckets


def route_keys(event: RouterInput, buckets: int) -> range | tuple[int]:
    """The router buckets an input goes to: a market's own for its book and trade events, all for
    the rest (window announcements, oracle, spot, candles, controls)."""
    condition_id = getattr(event, "condition_id", None)
    if condition_id is None or isinstance(event, WindowEvent):
        return range(buckets)
    return (bucket_of(condition_id, buckets),)


def _is_book(event: MarketItem) -> bool:
    return isinstance(event, BookSnapshot | CompactBookSnapshot | BookDelta | TickSizeChange | BestBidAsk)


def admits(window_start: datetime, event_ts: datetime) -> bool:
    """Whether market data stamped `event_ts` may reach a window starting at `window_start`."""
    return event_ts >= window_start


@dataclass
class RouteResult:
    """Where one input goes; `problem` says why an input could not be used (to quarantine)."""

    routed: list[tuple[WindowId, WindowInput]] = field(default_factory=list)
    problem: str | None = None
    before_start: int = 0


def _symbols(window: WindowEvent) -> tuple[str, str]:
    """The Chainlink symbol (`btc/usd`) and the Binance symbol (`btcusdt`) of a window's asset."""
    return f"{window.asset}/usd", f"{window.asset}usdt"


class WindowRouter:
    """Routing tables of the live windows plus the current controls; as bucket `bucket` of
    `buckets`, it routes only to the windows of its own markets, and only bucket 0 reports the
    problems of inputs every bucket sees."""

    def __init__(
        self, retain_after_end: timedelta = timedelta(hours=1), bucket: int = 0, buckets: int = 1
    ) -> None:
        if not 0 <= bucket < buckets:
            raise ValueError(f"bucket {bucket} is not one of {buckets}")
        self._retain = retain_after_end
        self._bucket = bucket
        self._buckets = buckets
        self._windows: dict[WindowId, WindowEvent] = {}
        self._by_token: dict[str, WindowId] = {}
        self._by_symbol: dict[str, set[WindowId]] = {}
        self._owned: set[WindowId] = set()  # the live windows of this bucket's markets
        self._sent: dict[WindowId, RuntimeControls] = {}  # the controls each window last got
        self._ends: list[tuple[datetime, WindowId]] = []  # heap of end times; popped past the horizon
        self._pending: dict[
            str, BookSnapshot | CompactBookSnapshot
        ] = {}  # token -> snapshot before its window
        self.controls: RuntimeControls | None = None

    @property
    def live_windows(self) -> frozenset[WindowId]:
        return frozenset(self._windows)

    def _owns(self, window: WindowEvent) -> bool:
        return self._buckets == 1 or bucket_of(window.condition_id, self._buckets) == self._bucket

    def route(self, event: RouterInput) -> RouteResult:
        if isinstance(event, ControlChange | ControlsSnapshot):
            result = self._controls(event)
        elif isinstance(event, WindowEvent):
            result = self._window(event)
        elif isinstance(event, OracleTick | SpotTick | CandleOpen):
            result = self._to(self._by_symbol.get(event.symbol, set()), event)
        else:
            return self._market(event)
        if self._bucket != 0:
            result.problem = None  # every bucket saw it; bucket 0 reports it
        result.routed = [(w, item) for w, item in result.routed if w in self._owned]
        self._owned.intersection_update(self._windows)
        return result

    def _market(self, event: BookItem | LastTrade) -> RouteResult:
        """A market's event, sent to this bucket alone (`route_keys`). A book snapshot of a token no
        window names yet is kept (the latest per token, at most `MAX_PENDING_SNAPSHOTS`, oldest
        dropped first) and routed when its window is announced: a consumer reading several topics
        from the earliest (a flow started after `feeds`) may read a market's first snapshot before
        its window's announcement, and its book would otherwise stay unsynced (only deltas follow)."""
        window_id = self._by_token.get(event.token_id)
        if window_id is None:
            if isinstance(event, BookSnapshot | CompactBookSnapshot):
                self._pending.pop(event.token_id, None)
                self._pending[event.token_id] = event
                while len(self._pending) > MAX_PENDING_SNAPSHOTS:
                    del self._pending[next(iter(self._pending))]
            return RouteResult()
        if self._windows[window_id].condition_id != event.condition_id:
            return RouteResult(problem=f"token {event.token_id} of {window_id} named another market")
        return self._to((window_id,), event)

    def _to(self, window_ids: Iterable[WindowId], event: MarketItem) -> RouteResult:
        result = RouteResult()
        for window_id in sorted(window_ids):
            if window_id not in self._owned:
                continue
            if _is_book(event) or admits(self._windows[window_id].start_ts, event.source_ts):
                if self.controls is not None and self._sent.get(window_id) is not self.controls:
                    result.routed.append((window_id, ControlsUpdate(self.controls)))
                    self._sent[window_id] = self.controls
                result.routed.append((window_id, event))
            else:
                result.before_start += 1
        return result

    def _controls(self, event: ControlChange | ControlsSnapshot) -> RouteResult:
        try:
            if isinstance(event, ControlsSnapshot):
                controls: RuntimeControls | None = apply_snapshot(self.controls, event)
            else:
                controls = apply_change(self.controls, event)
        except ValueError as exc:
            return RouteResult(problem=f"bad control value: {exc}")
        if controls is not None:
            self.controls = controls  # each window gets it with its next market data (`_to`)
        return RouteResult()

    def _window(self, event: WindowEvent) -> RouteResult:
        result = RouteResult()
        window_id = event.window_id
        known = window_id in self._windows
        if event.phase is WindowPhase.RESOLVED:
            if known:
                result.routed.append((window_id, event))
                self._forget(window_id)
        else:
            previous = self._windows.get(window_id)
            if previous is not None:  # a re-announcement may name other tokens (replayed or test topic)
                self._unmap_tokens(previous)
            self._windows[window_id] = event
            if previous is None or previous.end_ts != event.end_ts:
                heapq.heappush(self._ends, (event.end_ts, window_id))
            if self._owns(event):
                self._owned.add(window_id)
            else:
                self._owned.discard(window_id)
            self._by_token[event.up_token_id] = window_id
            self._by_token[event.down_token_id] = window_id
            for symbol in _symbols(event):
                self._by_symbol.setdefault(symbol, set()).add(window_id)
            result.routed.append((window_id, event))
            for token in (event.up_token_id, event.down_token_id):
                held = self._pending.pop(token, None)
                if held is not None and held.condition_id == event.condition_id:
                    result.routed.extend(self._to((window_id,), held).routed)
        horizon = event.source_ts - self._retain
        while self._ends and self._ends[0][0] < horizon:  # oldest end first: no scan of every window
            end_ts, stale = heapq.heappop(self._ends)
            live = self._windows.get(stale)
            if live is not None and live.end_ts == end_ts:  # else resolved or announced again since
                result.routed.append((stale, Expire(event.source_ts)))
                self._forget(stale)
        return result

    def _unmap_tokens(self, window: WindowEvent) -> None:
        for token in (window.up_token_id, window.down_token_id):
            if self._by_token.get(token) == window.window_id:
                del self._by_token[token]

    def _forget(self, window_id: WindowId) -> None:
        self._sent.pop(window_id, None)
        window = self._windows.pop(window_id)
        self._unmap_tokens(window)
        for symbol in _symbols(window):
            members = self._by_symbol.get(symbol)
            if members is not None:
                members.discard(window_id)
                if not members:
                    del self._by_symbol[symbol]
