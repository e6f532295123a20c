"""Order acceptance rules (POLYMARKET.md §6.3-§6.6), with the venue's refusal texts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from simulator.accounts import COLLATERAL, Ledger
from simulator.book import Order
from simulator.config import SimulatorConfig
from simulator.market_events import MarketState
from simulator.protocol import OrderRequest, VenueError
from simulator.wire import fmt

MICRO = Decimal("0.000001")


def check_order(
    req: OrderRequest,
    state: MarketState,
    ledger: Ledger,
    config: SimulatorConfig,
    now: datetime,
    duplicate: bool,
) -> None:
    """Raise the venue's refusal for `req`, or return when the order may be matched."""
    m = state.market
    oid = req.order_id
    if state.closed or now >= m.end:
        raise VenueError(400, "the market is not yet ready to process new orders: market closed")
    if duplicate:
        raise VenueError(400, f"order {oid} is invalid. Duplicated.")
    tick = state.tick
    marketable_type = req.order_type in ("FOK", "FAK")
    on_grid = req.price % tick == 0 or marketable_type
    if not (tick <= req.price <= 1 - tick) or not on_grid:
        raise VenueError(
            400,
            f"order {oid} is invalid. Price ({fmt(req.price)}) breaks minimum tick size rule: {fmt(tick)}",
        )
    unlimited = ledger.is_unlimited(req.account)
    if req.size <= 0:
        raise VenueError(400, "Invalid order payload")
    if marketable_type:
        notional = (req.size * req.price).quantize(MICRO)
        if notional < 1 and not unlimited:
            raise VenueError(
                400, f"invalid amount for a marketable {req.side} order (${fmt(notional)}), min size: $1"
            )
        if req.post_only:
            raise VenueError(400, "invalid post-only order: only GTC and GTD orders can be post-only")
    elif req.size < m.min_order_size and not unlimited:
        raise VenueError(
            400,
            f"order {oid} is invalid. Size ({fmt(req.size)}) lower than the minimum: {fmt(m.min_order_size)}",
        )
    if req.order_type == "GTD" and req.expiration < int(now.timestamp()) + config.gtd_security_margin_s:
        raise VenueError(400, f"order {oid} is invalid. invalid expiration")
    if req.side == "BUY":
        # Price plus fee rises with price, so the limit price bounds what any fill can cost.
        need, asset = req.size * req.price + m.taker_fee(req.size, req.price), COLLATERAL
    else:
        need, asset = req.size, req.token_id
    if not ledger.can_spend(req.account, asset, need):
        raise VenueError(400, "not enough balance / allowance")
    if req.post_only:
        probe = Order(
            oid, req.account, req.token_id, req.token_id == m.up_token_id, req.side, req.price, req.size
        )
        if state.book.would_cross(probe):
            raise VenueError(400, "invalid post-only order: order crosses book")


def check_fillable(req: OrderRequest, available: Decimal, max_size: Decimal | None) -> None:
    """Refuse a FOK that cannot fill whole, or a FAK with nothing to match, before anything moves.

    `available` is the crossable size on the book; `max_size` caps what one order may fill, if set.
    """
    if req.order_type == "FOK" and min(available, max_size or available) < req.size:
        raise VenueError(
            400,
            "order couldn't be fully filled. FOK orders are fully filled or killed.",
            orderID=req.order_id,
        )
    if req.order_type == "FAK" and available == 0:
        raise VenueError(
            400,
            "no orders found to match with FAK order. FAK orders are partially filled or killed if no "
            "match is found.",
            orderID=req.order_id,
        )
