"""One market's matching engine: a single book in Up-price space for both outcome tokens.

A BUY Up at p is a bid at p; a SELL Up at p an ask at p; a BUY Down at q is an ask at 1-q (it
offers the other side of Up) and a SELL Down at q a bid at 1-q. So one price-time queue serves both
tokens and the exchange's three settlement kinds fall out of who meets whom: BUY vs SELL of one
token is COMPLEMENTARY, two BUYs MINT a pair, two SELLs MERGE one. Fills happen at the resting
order's price; any improvement goes to the taker. Pure: no balances, no clocks, no I/O.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

Side = Literal["BUY", "SELL"]
BookSide = Literal["bid", "ask"]
MatchKind = Literal["COMPLEMENTARY", "MINT", "MERGE"]
ONE = Decimal(1)
ZERO = Decimal(0)


@dataclass(slots=True)
class Order:
    """An order as the venue tracks it; `price` and sizes are in the order's own token."""

    id: str
    account: str
    token_id: str
    is_up: bool
    side: Side
    price: Decimal
    original_size: Decimal
    order_type: str = "GTC"
    api_key: str = ""
    maker_address: str = ""
    expiration: int = 0
    created_at: int = 0
    seq: int = 0
    size_matched: Decimal = ZERO
    status: str = "LIVE"
    trade_ids: list[str] = field(default_factory=list)

    @property
    def remaining(self) -> Decimal:
        return self.original_size - self.size_matched

    @property
    def book_side(self) -> BookSide:
        return "bid" if (self.side == "BUY") == self.is_up else "ask"

    @property
    def up_price(self) -> Decimal:
        return self.price if self.is_up else ONE - self.price


@dataclass(frozen=True, slots=True)
class Fill:
    """One taker/maker pair matched for `size` shares at the maker's price."""

    taker: Order
    maker: Order
    size: Decimal
    kind: MatchKind

    @property
    def maker_price(self) -> Decimal:
        return self.maker.price

    @property
    def taker_price(self) -> Decimal:
        """The taker's own-token price: the maker's Up-space price seen from the taker's token."""
        up = self.maker.up_price
        return up if self.taker.is_up else ONE - up


def match_kind(taker: Order, maker: Order) -> MatchKind:
    if taker.token_id == maker.token_id:
        return "COMPLEMENTARY"
    return "MINT" if taker.side == "BUY" else "MERGE"


class _Ladder:
    """One side of the Up-space book: price levels, each a FIFO of orders, plus level totals."""

    def __init__(self, side: BookSide) -> None:
        self.side = side
        self.prices: list[Decimal] = []
        self.queues: dict[Decimal, deque[Order]] = {}
        self.totals: dict[Decimal, Decimal] = {}

    def best(self) -> Decimal | None:
        if not self.prices:
            return None
        return self.prices[-1] if self.side == "bid" else self.prices[0]

    def add(self, order: Order) -> None:
        price = order.up_price
        queue = self.queues.get(price)
        if queue is None:
            queue = deque()
            self.queues[price] = queue
            self.totals[price] = ZERO
            bisect.insort(self.prices, price)
        queue.append(order)
        self.totals[price] += order.remaining

    def reduce(self, price: Decimal, amount: Decimal) -> None:
        self.totals[price] -= amount

    def remove(self, order: Order) -> bool:
        price = order.up_price
        queue = self.queues.get(price)
        if queue is None or order not in queue:
            return False
        queue.remove(order)
        self.totals[price] -= order.remaining
        self._drop_if_empty(price)
        return True

    def _drop_if_empty(self, price: Decimal) -> None:
        if not self.queues[price]:
            del self.queues[price]
            del self.totals[price]
            self.prices.pop(bisect.bisect_left(self.prices, price))

    def crossing_prices(self, limit: Decimal) -> list[Decimal]:
        """Levels a taker on the other side with Up-space limit `limit` can trade, best first."""
        if self.side == "ask":
            return self.prices[: bisect.bisect_right(self.prices, limit)]
        return list(reversed(self.prices[bisect.bisect_left(self.prices, limit) :]))


class MarketBook:
    """The unified book of one market; `touched` collects (Up-space side, price) changed levels."""

    def __init__(self, up_token_id: str, down_token_id: str) -> None:
        self.up_token_id = up_token_id
        self.down_token_id = down_token_id
        self.bids = _Ladder("bid")
        self.asks = _Ladder("ask")
        self.touched: set[tuple[BookSide, Decimal]] = set()

    def _ladder(self, side: BookSide) -> _Ladder:
        return self.bids if side == "bid" else self.asks

    def _opposite(self, order: Order) -> _Ladder:
        return self.asks if order.book_side == "bid" else self.bids

    def crossable_size(self, taker: Order) -> Decimal:
        """Shares available to `taker` at or better than its limit (for FOK and post-only checks)."""
        ladder = self._opposite(taker)
        return sum((ladder.totals[p] for p in ladder.crossing_prices(taker.up_price)), ZERO)

    def would_cross(self, order: Order) -> bool:
        ladder = self._opposite(order)
        return bool(ladder.crossing_prices(order.up_price))

    def match(self, taker: Order, max_size: Decimal | None = None) -> list[Fill]:
        """Match `taker` against resting orders, price-time, up to `max_size` shares (default all).

        Updates `size_matched` on both sides and removes filled makers; does not rest the taker.
        """
        want = taker.remaining if max_size is None else min(max_size, taker.remaining)
        ladder = self._opposite(taker)
        fills: list[Fill] = []
        for price in ladder.crossing_prices(taker.up_price):
            queue = ladder.queues[price]
            while queue and want > 0:
                maker = queue[0]
                size = min(want, maker.remaining)
                maker.size_matched += size
                taker.size_matched += size
                want -= size
                ladder.reduce(price, size)
                fills.append(Fill(taker=taker, maker=maker, size=size, kind=match_kind(taker, maker)))
                if maker.remaining == 0:
                    maker.status = "MATCHED"
                    queue.popleft()
            self.touched.add((ladder.side, price))
            ladder._drop_if_empty(price)
            if want == 0:
                break
        return fills

    def rest(self, order: Order) -> None:
        self._ladder(order.book_side).add(order)
        self.touched.add((order.book_side, order.up_price))

    def remove(self, order: Order) -> bool:
        removed = self._ladder(order.book_side).remove(order)
        if removed:
            self.touched.add((order.book_side, order.up_price))
        return removed

    def resting_orders(self) -> list[Order]:
        return [o for ladder in (self.bids, self.asks) for q in ladder.queues.values() for o in q]

    def best_up(self) -> tuple[Decimal | None, Decimal | None]:
        return self.bids.best(), self.asks.best()

    def best_for(self, token_id: str) -> tuple[Decimal | None, Decimal | None]:
        """Best (bid, ask) in `token_id`'s own prices."""
        bid, ask = self.best_up()
        if token_id == self.up_token_id:
            return bid, ask
        return (None if ask is None else ONE - ask), (None if bid is None else ONE - bid)

    def level_for(self, token_id: str, up_side: BookSide, up_price: Decimal) -> tuple[Side, Decimal, Decimal]:
        """A changed Up-space level as `token_id` sees it: (BUY|SELL, price, new total size)."""
        total = self._ladder(up_side).totals.get(up_price, ZERO)
        if token_id == self.up_token_id:
            return ("BUY" if up_side == "bid" else "SELL"), up_price, total
        return ("SELL" if up_side == "bid" else "BUY"), ONE - up_price, total

    def levels(self, token_id: str) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """(bids, asks) of `token_id`, best price last as the venue serves them."""
        up_bids = [(p, self.bids.totals[p]) for p in self.bids.prices]
        up_asks = [(p, self.asks.totals[p]) for p in reversed(self.asks.prices)]
        if token_id == self.up_token_id:
            return up_bids, up_asks
        bids = [(ONE - p, s) for p, s in up_asks]
        asks = [(ONE - p, s) for p, s in up_bids]
        return bids, asks

    def drain_touched(self) -> list[tuple[BookSide, Decimal]]:
        touched = sorted(self.touched)
        self.touched.clear()
        return touched
