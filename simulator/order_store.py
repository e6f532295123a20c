"""The exchange's records: orders by id, each account's live orders, GTD orders, trades."""

from __future__ import annotations

from simulator.book import Order
from simulator.trades import TradeRecord


class OrderStore:
    """Orders and trades the exchange has accepted, indexed for its reads and its upkeep.

    The live and expiring indexes are pruned lazily: entries whose order left LIVE are dropped on read.
    """

    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.trades: dict[str, TradeRecord] = {}
        self._live: dict[str, dict[str, Order]] = {}
        self._expiring: dict[str, Order] = {}
        self._account_trades: dict[str, list[TradeRecord]] = {}

    def add(self, order: Order) -> None:
        self.orders[order.id] = order

    def rest(self, order: Order) -> None:
        """Index an order that now rests on the book (and, if it has one, its expiration)."""
        self._live.setdefault(order.account, {})[order.id] = order
        if order.expiration:
            self._expiring[order.id] = order

    def forget(self, order: Order) -> None:
        self.orders.pop(order.id, None)

    def open_orders(self, account: str) -> list[Order]:
        live = self._live.get(account, {})
        for oid in [oid for oid, o in live.items() if o.status != "LIVE"]:
            del live[oid]
        return list(live.values())

    def expired(self, now_s: int) -> list[Order]:
        """Live GTD orders whose expiration (unix seconds) is at or before `now_s`."""
        for oid in [oid for oid, o in self._expiring.items() if o.status != "LIVE"]:
            del self._expiring[oid]
        return [o for o in self._expiring.values() if o.expiration <= now_s]

    def add_trade(self, trade: TradeRecord, accounts: list[str]) -> None:
        """Keep a trade by id, and in the history of each of `accounts`."""
        self.trades[trade.id] = trade
        for account in accounts:
            self._account_trades.setdefault(account, []).append(trade)

    def trades_of(self, account: str) -> list[TradeRecord]:
        return list(self._account_trades.get(account, []))
