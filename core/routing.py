"""The trading flow's loader: which window each market-data event belongs to, and whether it may
reach that window's state at all.

Book and trade events name a token, oracle and spot events a symbol, controls nothing; windows are
the key everything else is grouped by. The router learns token -> window and symbol -> windows from
`md.windows`, forgets a window when it resolves (or, if its resolution never arrives, once it ended
`retain_after_end` ago, sending the window an `Expire` so its state is dropped too), and broadcasts
the current runtime controls to every live window. The filter "nothing stamped before the window's
start" (`admits`) lives here, in the loader, not in strategies. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core.controls import RuntimeControls, apply_change, apply_snapshot
from core.enums import WindowPhase
from core.ids import WindowId
from core.models import ControlChange, ControlsSnapshot, LastTrade, OracleTick, SpotTick, WindowEvent
from core.window_state import BookItem, CandleOpen

__all__ = ["ControlsUpdate", "Expire", "RouteResult", "RouterInput", "WindowInput", "WindowRouter", "admits"]


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
    """Routing tables of the live windows plus the current controls."""

    def __init__(self, retain_after_end: timedelta = timedelta(hours=1)) -> None:
        self._retain = retain_after_end
        self._windows: dict[WindowId, WindowEvent] = {}
        self._by_token: dict[str, WindowId] = {}
        self._by_symbol: dict[str, set[WindowId]] = {}
        self.controls: RuntimeControls | None = None

    @property
    def live_windows(self) -> frozenset[WindowId]:
        return frozenset(self._windows)

    def route(self, event: RouterInput) -> RouteResult:
        if isinstance(event, ControlChange | ControlsSnapshot):
            return self._controls(event)
        if isinstance(event, WindowEvent):
            return self._window(event)
        if isinstance(event, OracleTick | SpotTick | CandleOpen):
            return self._to(self._by_symbol.get(event.symbol, set()), event)
        window_id = self._by_token.get(event.token_id)
        return self._to(() if window_id is None else (window_id,), event)

    def _to(self, window_ids: Iterable[WindowId], event: MarketItem) -> RouteResult:
        result = RouteResult()
        for window_id in sorted(window_ids):
            if admits(self._windows[window_id].start_ts, event.source_ts):
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
        if controls is None or controls is self.controls:
            return RouteResult()
        self.controls = controls
        update = ControlsUpdate(controls)
        return RouteResult(routed=[(window_id, update) for window_id in sorted(self._windows)])

    def _window(self, event: WindowEvent) -> RouteResult:
        result = RouteResult()
        window_id = event.window_id
        known = window_id in self._windows
        if event.phase is WindowPhase.RESOLVED:
            if known:
                result.routed.append((window_id, event))
                self._forget(window_id)
        else:
            if known:  # a re-announcement may name other tokens (a replayed or test topic): drop the old
                self._unmap_tokens(self._windows[window_id])
            self._windows[window_id] = event
            self._by_token[event.up_token_id] = window_id
            self._by_token[event.down_token_id] = window_id
            for symbol in _symbols(event):
                self._by_symbol.setdefault(symbol, set()).add(window_id)
            result.routed.append((window_id, event))
            if not known and self.controls is not None:
                result.routed.append((window_id, ControlsUpdate(self.controls)))
        horizon = event.source_ts - self._retain
        for stale in sorted(w for w, ev in self._windows.items() if ev.end_ts < horizon):
            result.routed.append((stale, Expire(event.source_ts)))
            self._forget(stale)
        return result

    def _unmap_tokens(self, window: WindowEvent) -> None:
        for token in (window.up_token_id, window.down_token_id):
            if self._by_token.get(token) == window.window_id:
                del self._by_token[token]

    def _forget(self, window_id: WindowId) -> None:
        window = self._windows.pop(window_id)
        self._unmap_tokens(window)
        for symbol in _symbols(window):
            members = self._by_symbol.get(symbol)
            if members is not None:
                members.discard(window_id)
                if not members:
                    del self._by_symbol[symbol]
