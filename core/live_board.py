"""The operator's live view of the windows trading now, built as the trading flow builds them.

The flow's own loader (`core.routing.WindowRouter`) routes each market-data event to its windows and
the flow's own window step (`core.window_engine.step`) applies it to a `WindowState`; on every
market-data event each strategy is asked, through `core.window_engine.decide`, exactly as the flow
asks it, so the board's signals are the flow's (its risk verdicts are not shown: the board has no
controls, positions or P&L). `view(now)` answers, per instrument, its current window: both books'
top levels, the reference (oracle or spot) print against the strike, time to close, the age of the
last book and reference events, and what each strategy sees now. Pure: no I/O, no clock.

Every map forgets: a window's state is dropped when its end passes (event time), when it resolves,
or when the router expires it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from core.enums import Outcome
from core.ids import WindowId
from core.models import LastTrade, Level, OracleTick, Signal, SpotTick, WindowEvent
from core.routing import ControlsUpdate, Expire, RouterInput, WindowInput, WindowRouter
from core.strategies.base import Strategy, evaluate_guarded
from core.window_engine import Desk, decide, step
from core.window_state import CandleOpen, WindowState

__all__ = ["BookSide", "InstrumentView", "LiveBoard", "StrategyView"]

_BPS = Decimal(10_000)
LEVELS = 5


@dataclass(frozen=True, slots=True)
class BookSide:
    """One token's book: top levels (best first), best prices, mid and last trade; `synced` False
    while no snapshot has arrived (or after a drift, until the next one)."""

    outcome: Outcome
    synced: bool
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    best_bid: Decimal | None
    best_ask: Decimal | None
    mid: Decimal | None
    last_trade: Decimal | None


@dataclass(frozen=True, slots=True)
class StrategyView:
    """What one strategy sees now: whether it would signal at `now` on this state, and what it
    signalled in this window (as the flow's decide saw it)."""

    strategy: str
    would_signal: Signal | None
    signals_in_window: int
    last_signal: Signal | None


@dataclass(frozen=True, slots=True)
class InstrumentView:
    instrument: str
    window_id: WindowId
    start: datetime
    end: datetime
    seconds_left: Decimal
    phase: str
    strike: Decimal | None
    venue_strike: Decimal | None
    reference_price: Decimal | None
    reference_ts: datetime | None
    distance_bps: Decimal | None
    favoured: Outcome | None
    up: BookSide
    down: BookSide
    last_book_ts: datetime | None
    strategies: tuple[StrategyView, ...]


@dataclass
class _Window:
    state: WindowState
    last_book_ts: datetime | None = None
    last_signals: dict[str, Signal] = field(default_factory=dict)


class LiveBoard:
    """The live windows' states, fed every md.* event (decoded, candles as `CandleOpen`)."""

    def __init__(
        self, strategies: tuple[Strategy, ...], retain_after_end: timedelta = timedelta(minutes=5)
    ) -> None:
        self._router = WindowRouter(retain_after_end)
        self._desk = Desk(strategies=strategies)
        self._apply_only = Desk(strategies=())  # the step applies; the board decides without controls
        self._windows: dict[WindowId, _Window] = {}
        self.latest_ts: datetime | None = None
        self.applied = 0
        self.problems = 0

    @property
    def strategies(self) -> tuple[Strategy, ...]:
        return self._desk.strategies

    @property
    def window_count(self) -> int:
        return len(self._windows)

    def apply(self, event: RouterInput) -> str | None:
        """Route `event` to its windows and step each; returns why it could not be used, if so."""
        result = self._router.route(event)
        for window_id, item in result.routed:
            self._step(window_id, item)
        at = getattr(event, "source_ts", None)
        if at is not None and (self.latest_ts is None or at > self.latest_ts):
            self.latest_ts = at
            self._drop_ended(at)
        self.applied += 1
        if result.problem is not None:
            self.problems += 1
        return result.problem

    def _step(self, window_id: WindowId, item: WindowInput) -> None:
        held = self._windows.get(window_id)
        state, _ = step(held.state if held else None, item, self._apply_only)
        if state is None:
            self._windows.pop(window_id, None)
            return
        if held is None or held.state is not state:
            held = _Window(state)
            self._windows[window_id] = held
        if isinstance(item, WindowEvent | ControlsUpdate | Expire):
            return
        if not isinstance(item, LastTrade | OracleTick | SpotTick | CandleOpen):
            held.last_book_ts = item.source_ts
        for out in decide(state, item.source_ts, self._desk):
            if isinstance(out, Signal):
                held.last_signals[out.strategy] = out

    def _drop_ended(self, now: datetime) -> None:
        for window_id in [w for w, held in self._windows.items() if held.state.end <= now]:
            del self._windows[window_id]

    def view(self, now: datetime) -> list[InstrumentView]:
        """Each instrument's current window at `now` (open: started, not ended), by instrument name."""
        current: dict[str, _Window] = {}
        for held in self._windows.values():
            state = held.state
            if not state.start <= now < state.end:
                continue
            seen = current.get(state.instrument)
            if seen is None or state.end < seen.state.end:
                current[state.instrument] = held
        return [_instrument(current[name], now, self.strategies) for name in sorted(current)]


def _side(state: WindowState, outcome: Outcome) -> BookSide:
    bids, asks = state.depth(outcome, LEVELS)
    return BookSide(
        outcome=outcome,
        synced=bool(bids or asks),
        bids=bids,
        asks=asks,
        best_bid=state.best_bid(outcome),
        best_ask=state.best_ask(outcome),
        mid=state.mid(outcome),
        last_trade=state.last_trade.get(outcome),
    )


def _instrument(held: _Window, now: datetime, strategies: tuple[Strategy, ...]) -> InstrumentView:
    state = held.state
    strike, reference = state.strike, state.reference_price
    distance = None
    if strike is not None and reference is not None and strike > 0:
        distance = ((reference - strike) / strike * _BPS).quantize(Decimal("0.01"))
    views = tuple(
        StrategyView(
            strategy=s.name,
            would_signal=evaluate_guarded(s, state, now),
            signals_in_window=state.signals_from(s.name),
            last_signal=held.last_signals.get(s.name),
        )
        for s in strategies
    )
    return InstrumentView(
        instrument=state.instrument,
        window_id=state.window_id,
        start=state.start,
        end=state.end,
        seconds_left=Decimal(str(state.time_left(now).total_seconds())),
        phase=state.phase.value,
        strike=strike,
        venue_strike=state.window.strike,
        reference_price=reference,
        reference_ts=state.reference_ts,
        distance_bps=distance,
        favoured=state.favoured(),
        up=_side(state, Outcome.UP),
        down=_side(state, Outcome.DOWN),
        last_book_ts=held.last_book_ts,
        strategies=views,
    )
