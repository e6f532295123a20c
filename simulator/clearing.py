"""The ledger side of trading: order holds, fill settlement, failed-trade reversal (redemption: Ledger.redeem)."""

from __future__ import annotations

from decimal import Decimal

from simulator.accounts import COLLATERAL, Ledger, Transfer
from simulator.book import Fill, Order
from simulator.markets import SimMarket
from simulator.trades import TradeRecord, fill_transfers


def hold(ledger: Ledger, order: Order, size: Decimal) -> None:
    """Reserve what `size` of a resting order could spend: collateral for a BUY, shares for a SELL."""
    if order.side == "BUY":
        ledger.hold(order.account, COLLATERAL, size * order.price)
    else:
        ledger.hold(order.account, order.token_id, size)


def release(ledger: Ledger, order: Order, size: Decimal) -> None:
    if order.side == "BUY":
        ledger.release(order.account, COLLATERAL, size * order.price)
    else:
        ledger.release(order.account, order.token_id, size)


def settle_fill(
    ledger: Ledger,
    market: SimMarket,
    fill: Fill,
    *,
    trade_id: str,
    now_s: int,
    fee_rate_bps: int,
    will_fail: bool,
) -> TradeRecord:
    """Move collateral and shares for one fill and return its trade; the taker pays the fee."""
    taker, maker, size = fill.taker, fill.maker, fill.size
    fee = market.taker_fee(size, fill.taker_price)
    moves = fill_transfers(fill, fee)
    release(ledger, maker, size)
    ledger.apply(moves)
    return TradeRecord(
        id=trade_id,
        market=market.condition_id,
        taker=taker,
        maker=maker,
        size=size,
        taker_price=fill.taker_price,
        maker_price=fill.maker_price,
        kind=fill.kind,
        fee=fee,
        fee_rate_bps=fee_rate_bps,
        match_time=now_s,
        last_update=now_s,
        transfers=moves,
        will_fail=will_fail,
    )


def reverse(ledger: Ledger, trade: TradeRecord) -> None:
    """Undo a FAILED trade's transfers: on chain it never happened."""
    ledger.apply([Transfer(t.account, t.asset, -t.amount) for t in trade.transfers])
