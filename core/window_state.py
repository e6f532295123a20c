"""Everything the trading flow knows about one window, kept from the events routed to it.

Both tokens' books, the last trades, the reference price (the feed the window's settlement rule
reads) against the strike, time to close, and our own orders and exposure in this window. The
strike comes from the window's own rule (core.settlement): the Chainlink print at the start second,
or the open of the Binance 1-hour candle that starts at the window's start. A candle arrives as a
`CandleOpen` (the seam for the `md.spot` candle model: the flow converts it). Pure: no I/O, no clock;
`now` is always an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from core.controls import RuntimeControls
from core.enums import OracleStream, Outcome, WindowPhase, phase_rank
from core.ids import TokenId, WindowId
from core.models import (
    BestBidAsk,
    BookDelta,
    BookSnapshot,
    Candle,
    CompactBookSnapshot,
    LastTrade,
    Level,
    OracleTick,
    SpotTick,
    TickSizeChange,
    WindowEvent,
)
from core.orderbook import Applied, OrderBook
from core.settlement import RuleKind, SettlementRule
from core.window_integrity import rule_from_name

__all__ = ["CandleOpen", "WindowState", "candle_open", "instrument_of", "rule_stream"]

_HALF = Decimal("0.5")

BookItem = BookSnapshot | CompactBookSnapshot | BookDelta | TickSizeChange | BestBidAsk


@dataclass(frozen=True, slots=True)
class CandleOpen:
    """An exchange candle as the window needs it: its open is an hourly window's strike."""

    symbol: str
    interval_s: int
    open_ts: datetime
    open: Decimal
    close: Decimal
    source_ts: datetime
    closed: bool = False  # only a closed candle's close settles an hourly window (core.window_checks)


def candle_open(event: Candle) -> CandleOpen:
    """The md.spot candle model as the window state's seam (the trading flow and the API's live
    view convert with this one function)."""
    return CandleOpen(
        symbol=event.symbol,
        interval_s=event.interval_s,
        open_ts=event.open_ts,
        open=event.open,
        close=event.close,
        source_ts=event.source_ts,
        closed=event.closed,
    )


def instrument_of(asset: str, interval_s: int) -> str:
    """The instrument name the `allowed_instruments` control lists: `btc-5m`, `eth-15m`, `sol-1h`."""
    if interval_s % 3600 == 0:
        label = f"{interval_s // 3600}h"
    elif interval_s % 60 == 0:
        label = f"{interval_s // 60}m"
    else:
        label = f"{interval_s}s"
    return f"{asset}-{label}"


def rule_stream(rule: SettlementRule) -> OracleStream | None:
    """The md.oracle stream a Chainlink rule reads; None for a rule not read from md.oracle."""
    if rule.kind is RuleKind.CHAINLINK_SPOT:
        return OracleStream.CHAINLINK_SPOT
    if rule.kind is RuleKind.CHAINLINK_TWAP and rule.twap_seconds == 30:
        return OracleStream.CHAINLINK_TWAP_30
    if rule.kind is RuleKind.CHAINLINK_TWAP and rule.twap_seconds == 60:
        return OracleStream.CHAINLINK_TWAP_60
    return None


class WindowState:
    """One window's state. Methods that take events mutate it; queries never do.

    Events must already have passed the loader filter (`core.routing.admits`): nothing stamped
    before the window's start is applied here.
    """

    def __init__(self, window: WindowEvent) -> None:
        self.window = window
        self.phase = window.phase
        self.rule = rule_from_name(window.settlement_rule, window.asset)
        self.instrument = instrument_of(window.asset, window.interval_s)
        self._tokens = {Outcome.UP: window.up_token_id, Outcome.DOWN: window.down_token_id}
        self._books = {token: OrderBook(token) for token in self._tokens.values()}
        self.last_trade: dict[Outcome, Decimal] = {}
        self.reference_price: Decimal | None = None
        self.reference_ts: datetime | None = None
        self._strike: Decimal | None = None
        self.controls: RuntimeControls | None = None
        self.orders: dict[Outcome, int] = {}
        self.position_usd: dict[Outcome, Decimal] = {}
        self.signals: dict[str, int] = {}

    # --- identity and time -------------------------------------------------------------------
    @property
    def window_id(self) -> WindowId:
        return self.window.window_id

    @property
    def start(self) -> datetime:
        return self.window.start_ts

    @property
    def end(self) -> datetime:
        return self.window.end_ts

    def time_left(self, now: datetime) -> timedelta:
        return self.end - now

    def is_open_at(self, now: datetime) -> bool:
        """Started, not ended, and not reported closed or resolved: the only time to trade."""
        return self.start <= now < self.end and self.phase in (WindowPhase.DISCOVERED, WindowPhase.OPEN)

    @property
    def resolved(self) -> bool:
        return self.phase is WindowPhase.RESOLVED

    def token(self, outcome: Outcome) -> TokenId:
        return self._tokens[outcome]

    def outcome_of(self, token: str) -> Outcome | None:
        return next((o for o, t in self._tokens.items() if t == token), None)

    # --- strike ------------------------------------------------------------------------------
    @property
    def strike(self) -> Decimal | None:
        """Our strike from the rule's print; the venue's own strike only when we have no print."""
        return self._strike if self._strike is not None else self.window.strike

    # --- books -------------------------------------------------------------------------------
    def best_bid(self, outcome: Outcome) -> Decimal | None:
        book = self._books[self._tokens[outcome]]
        return book.best_bid() if book.synced else None

    def best_ask(self, outcome: Outcome) -> Decimal | None:
        book = self._books[self._tokens[outcome]]
        return book.best_ask() if book.synced else None

    def mid(self, outcome: Outcome) -> Decimal | None:
        bid, ask = self.best_bid(outcome), self.best_ask(outcome)
        return (bid + ask) / 2 if bid is not None and ask is not None else None

    def favoured(self) -> Outcome | None:
        """The outcome the CLOB prices above $0.50 (by mid), or None when neither is."""
        for outcome in (Outcome.UP, Outcome.DOWN):
            mid = self.mid(outcome)
            if mid is not None and mid > _HALF:
                return outcome
        return None

    def tick_size(self, outcome: Outcome) -> Decimal | None:
        """The token's tick size as its book last said (None before any snapshot carried one)."""
        return self._books[self._tokens[outcome]].tick_size

    def depth(self, outcome: Outcome, levels: int = 5) -> tuple[tuple[Level, ...], tuple[Level, ...]]:
        book = self._books[self._tokens[outcome]]
        return book.top(levels) if book.synced else ((), ())

    def signals_from(self, strategy: str) -> int:
        return self.signals.get(strategy, 0)

    # --- events ------------------------------------------------------------------------------
    def apply_window(self, event: WindowEvent) -> None:
        """A later lifecycle step replaces the window's facts; the phase never moves back."""
        if event.window_id != self.window_id:
            raise ValueError(f"window event for {event.window_id} routed to {self.window_id}")
        if phase_rank(event.phase) >= phase_rank(self.phase):
            self.window = event
            self.phase = event.phase
            self.rule = rule_from_name(event.settlement_rule, event.asset) or self.rule

    def apply_book(self, event: BookItem) -> Applied:
        """Apply a book event; a drifted book is invalidated, so nothing trades on it until the
        next snapshot."""
        book = self._books.get(event.token_id)
        if book is None:
            return Applied.WRONG_TOKEN
        if isinstance(event, BookSnapshot | CompactBookSnapshot):
            return book.apply_snapshot(event)
        if isinstance(event, BookDelta):
            result = book.apply_delta(event)
            if result is Applied.DRIFT:
                book.invalidate()
            return result
        if isinstance(event, TickSizeChange):
            return book.apply_tick_size(event)
        if book.synced and not book.top_matches(event.best_bid, event.best_ask):
            book.invalidate()
            return Applied.DRIFT
        return Applied.OK

    def apply_trade(self, trade: LastTrade) -> None:
        outcome = self.outcome_of(trade.token_id)
        if outcome is not None:
            self.last_trade[outcome] = trade.price

    def apply_oracle(self, tick: OracleTick) -> None:
        """A Chainlink print of the rule's stream: the reference price, and the strike at the start
        second (a same-second correction, which arrives later, replaces it)."""
        rule = self.rule
        if rule is None or tick.symbol != rule.symbol or rule_stream(rule) is not tick.stream:
            return
        self._set_reference(tick.price, tick.source_ts)
        if tick.source_ts == self.start:
            self._strike = tick.price

    def apply_spot(self, tick: SpotTick) -> None:
        """An exchange print: the reference price of a window settled on that exchange's candle."""
        rule = self.rule
        if rule is not None and rule.kind is RuleKind.BINANCE_1H_CANDLE and tick.symbol == rule.symbol:
            self._set_reference(tick.price, tick.source_ts)

    def apply_candle(self, candle: CandleOpen) -> None:
        """The 1-hour candle that opens at the window's start sets the strike (its open)."""
        rule = self.rule
        if rule is None or rule.kind is not RuleKind.BINANCE_1H_CANDLE or candle.symbol != rule.symbol:
            return
        if candle.interval_s == 3600 and candle.open_ts == self.start:
            self._strike = candle.open
            self._set_reference(candle.close, candle.source_ts)

    def set_controls(self, controls: RuntimeControls) -> None:
        if self.controls is None or controls.as_of >= self.controls.as_of:
            self.controls = controls

    def record_signal(self, strategy: str) -> None:
        self.signals[strategy] = self.signals.get(strategy, 0) + 1

    def record_order(self, outcome: Outcome, cost_usd: Decimal) -> None:
        self.orders[outcome] = self.orders.get(outcome, 0) + 1
        self.position_usd[outcome] = self.position_usd.get(outcome, Decimal(0)) + cost_usd

    def _set_reference(self, price: Decimal, at: datetime) -> None:
        if self.reference_ts is None or at >= self.reference_ts:
            self.reference_price, self.reference_ts = price, at
