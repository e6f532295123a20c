"""What the exchange tells the outside: market-channel and user-channel messages, notifications.

Listeners are called synchronously, in order, for every message; they must not call back into the
exchange. Simulated market makers (unlimited accounts) get no user-channel messages or notifications.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from simulator.accounts import Ledger
from simulator.book import Order
from simulator.market_events import MarketState, last_trade_event, price_change_event, top_change_events
from simulator.markets import SimClock, ms
from simulator.protocol import MarketMessage, Message, UserMessage
from simulator.trades import TradeRecord
from simulator.wire import Json, order_event, trade_event


class Publisher:
    """Builds the venue's messages from exchange state and hands them to `listeners`."""

    def __init__(self, clock: SimClock, ledger: Ledger, rng: random.Random) -> None:
        self.clock = clock
        self.ledger = ledger
        self.rng = rng
        self.listeners: list[Callable[[Message], None]] = []
        self.notifications: dict[str, list[Json]] = {}
        self._held: dict[str, MarketState] | None = None

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Defer level flushes to the end of the block: one `price_change` per market for the net
        change, so a requote (cancel all, place all) never shows its half-built book."""
        if self._held is not None:
            yield
            return
        self._held = {}
        try:
            yield
        finally:
            held, self._held = self._held, None
            self.levels([held[cid] for cid in sorted(held)])

    def now_ms(self) -> int:
        return ms(self.clock.now())

    def market(self, state: MarketState, payload: Json, custom: bool = False) -> None:
        message = MarketMessage(state.market.condition_id, payload, custom)
        for listener in self.listeners:
            listener(message)

    def user(self, account: str, state: MarketState, payload: Json) -> None:
        if not self.ledger.is_unlimited(account):
            message = UserMessage(account, state.market.condition_id, payload)
            for listener in self.listeners:
                listener(message)

    def books(self, state: MarketState, now_ms: int) -> None:
        """A full `book` snapshot of both tokens; clears the levels touched since the last flush."""
        state.book.drain_touched()
        for token in state.market.token_ids:
            self.market(state, state.book_event(token, now_ms))

    def tops(self, state: MarketState, now_ms: int) -> None:
        for event in top_change_events(state, now_ms):
            self.market(state, event, True)

    def levels(self, states: list[MarketState]) -> None:
        """One `price_change` per market for the levels changed since the last flush, then tops."""
        if self._held is not None:
            self._held.update((s.market.condition_id, s) for s in states)
            return
        now_ms = self.now_ms()
        for state in states:
            touched = state.book.drain_touched()
            if not touched:
                continue
            self.market(state, price_change_event(state, touched, now_ms, self.rng))
            self.tops(state, now_ms)

    def order(self, state: MarketState, order: Order, kind: str, now_ms: int) -> None:
        if not self.ledger.is_unlimited(order.account):  # makers get no user channel: skip the build
            self.user(order.account, state, order_event(order, state.market, kind, now_ms))

    def trade(self, state: MarketState, trade: TradeRecord, now_ms: int) -> None:
        for account in trade.accounts():
            self.user(account, state, trade_event(trade, state.market, account, now_ms))

    def fills(self, state: MarketState, order: Order, trades: list[TradeRecord], now_ms: int) -> None:
        """Announce a taker's trades: maker updates, trade messages, and `last_trade_price` per leg.

        Records each traded token's last price on `state`, which `GET /book` and tick changes read.
        """
        for trade in trades:
            maker = trade.maker
            self.order(state, maker, "UPDATE", now_ms)
            self.trade(state, trade, now_ms)
            state.last_trade[order.token_id] = (trade.taker_price, order.side)
            legs = [(order.token_id, trade.taker_price)]
            if maker.token_id != order.token_id:
                state.last_trade[maker.token_id] = (trade.maker_price, maker.side)
                legs.append((maker.token_id, trade.maker_price))
            for token, price in legs:
                event = last_trade_event(
                    state, token, price, order.side, trade.size, trade.fee_rate_bps, now_ms
                )
                self.market(state, event)

    def notify(self, account: str, payload: Json) -> None:
        """Append to the account's `GET /notifications` box."""
        box = self.notifications.setdefault(account, [])
        box.append(
            {
                "id": len(box) + 1,
                "owner": account,
                "type": payload["type"],
                "payload": payload,
                "timestamp": int(self.clock.now().timestamp()),
            }
        )
