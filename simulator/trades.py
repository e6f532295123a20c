"""Trade records and their settlement lifecycle: MATCHED -> MINED -> CONFIRMED, or RETRYING -> FAILED.

Delays run on wall time (`time.monotonic`), as the chain does, whatever the scenario speed. A FAILED
trade is one that never happened: its balance transfers are reversed by the exchange.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from simulator.accounts import COLLATERAL, FEE_ACCOUNT, Transfer
from simulator.book import Fill, MatchKind, Order

MICRO = Decimal("0.000001")


@dataclass(slots=True)
class TradeRecord:
    id: str
    market: str
    taker: Order
    maker: Order
    size: Decimal
    taker_price: Decimal
    maker_price: Decimal
    kind: MatchKind
    fee: Decimal
    fee_rate_bps: int
    match_time: int
    last_update: int
    transfers: list[Transfer] = field(default_factory=list)
    status: str = "MATCHED"
    transaction_hash: str = ""
    will_fail: bool = False

    def accounts(self) -> list[str]:
        return list(dict.fromkeys([self.taker.account, self.maker.account]))


_NEXT_OK = {"MATCHED": "MINED", "MINED": "CONFIRMED"}
_NEXT_FAIL = {"MATCHED": "RETRYING", "RETRYING": "FAILED"}


class Lifecycle:
    """A wall-clock schedule of trade status steps, advanced by `due(now)`."""

    def __init__(self, mined_delay_s: float, confirmed_delay_s: float) -> None:
        self.mined_delay_s = mined_delay_s
        self.confirmed_delay_s = confirmed_delay_s
        self._heap: list[tuple[float, int, TradeRecord]] = []
        self._seq = 0

    def start(self, trade: TradeRecord, now: float | None = None) -> None:
        self._push(trade, (time.monotonic() if now is None else now) + self.mined_delay_s)

    def _push(self, trade: TradeRecord, when: float) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (when, self._seq, trade))

    def due(self, now: float | None = None, on_step: Callable[[TradeRecord, str], None] | None = None) -> int:
        """Advance every trade whose next step is due; `on_step(trade, new_status)` sees each after it."""
        moment = time.monotonic() if now is None else now
        steps = 0
        while self._heap and self._heap[0][0] <= moment:
            _, _, trade = heapq.heappop(self._heap)
            table = _NEXT_FAIL if trade.will_fail else _NEXT_OK
            new_status = table.get(trade.status)
            if new_status is None:
                continue
            trade.status = new_status
            if on_step is not None:
                on_step(trade, new_status)
            steps += 1
            if new_status in table:
                self._push(trade, moment + self.confirmed_delay_s)
        return steps

    def pending(self) -> int:
        return len(self._heap)


def fill_transfers(fill: Fill, fee: Decimal) -> list[Transfer]:
    """Collateral and share movements of one fill; the taker pays `fee`, makers pay nothing.

    COMPLEMENTARY: the buyer pays the seller. MINT: both pay, each gets its own token (a new pair).
    MERGE: both hand in shares of a pair and each receives its price. The maker's amount is rounded
    to micro-units and the taker's is the rest of $1 per pair, so collateral is conserved exactly.
    """
    taker, maker, size = fill.taker, fill.maker, fill.size
    maker_cash = (size * fill.maker_price).quantize(MICRO)
    if fill.kind == "COMPLEMENTARY":
        buyer, seller = (taker, maker) if taker.side == "BUY" else (maker, taker)
        moves = [
            Transfer(buyer.account, COLLATERAL, -maker_cash),
            Transfer(seller.account, COLLATERAL, maker_cash),
            Transfer(seller.account, taker.token_id, -size),
            Transfer(buyer.account, taker.token_id, size),
        ]
    else:
        sign = Decimal(-1) if fill.kind == "MINT" else Decimal(1)
        moves = [
            Transfer(maker.account, COLLATERAL, sign * maker_cash),
            Transfer(taker.account, COLLATERAL, sign * (size - maker_cash)),
            Transfer(maker.account, maker.token_id, -sign * size),
            Transfer(taker.account, taker.token_id, -sign * size),
        ]
    if fee:
        moves += [Transfer(taker.account, COLLATERAL, -fee), Transfer(FEE_ACCOUNT, COLLATERAL, fee)]
    return moves
