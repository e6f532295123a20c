"""Polymarket user-channel frames -> core events (POLYMARKET.md §8): `trade` -> Fill per status,
`order` -> OrderUpdate. Never raises on bad input: a bad frame or item becomes a reject reason."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from connectors.frames import each_item, frame_text, load_json, venue_time
from connectors.parsing import Parsed
from connectors.polymarket.schemas import USER_MESSAGE, OrderMessage, TradeMessage
from core.enums import OrderStatus, Side, TradeStatus, TradingMode
from core.fees import FeeSchedule, FeeScheduleError, trade_fee
from core.ids import ClientOrderId
from core.models import Event, Fill, OrderUpdate


def _control(raw: str | bytes) -> bool:
    return frame_text(raw) == "PONG"


def venue_client_order_id(venue_order_id: str) -> ClientOrderId:
    """A deterministic ClientOrderId for an order known only by its venue id: "venue-" + 24 hex.

    The venue never echoes our client id; the execution consumer maps the venue id (known from the
    signed payload) back to its own. Deriving this one from the venue id keeps every frame of an
    order on the same key, also for orders placed elsewhere (96 bits make collisions negligible).
    """
    return ClientOrderId("venue-" + venue_order_id.lower().removeprefix("0x")[:24])


def parse_user_frame(
    raw: str | bytes,
    recv_ts: datetime,
    *,
    our_api_key: str | None = None,
    windows: Mapping[str, str] | None = None,
) -> Parsed:
    """One user-channel frame -> Fill events (`trade`) and OrderUpdate events (`order`).

    `our_api_key` picks our entries among a trade's `maker_orders` (without it a maker trade must
    name exactly one maker order). `windows` maps condition id -> window id (slug); an order of a
    market not in it is keyed by its lower-cased condition id, which execution can join on.
    """
    if _control(raw):
        return Parsed(control=True)
    value, why = load_json(raw)
    if why is not None:
        return Parsed.reject(why)
    known = windows or {}
    events, rejects = each_item(value, lambda item: _user_item(item, recv_ts, our_api_key, known))
    return Parsed(events=tuple(events), rejects=tuple(rejects))


def _user_item(
    item: dict[str, Any], recv_ts: datetime, our_api_key: str | None, windows: Mapping[str, str]
) -> tuple[list[Event], list[str]]:
    msg = USER_MESSAGE.validate_python(item)
    if isinstance(msg, TradeMessage):
        return _fills(msg, recv_ts, our_api_key, windows)
    return _order_update(msg, windows)


def _trade_status(status: str) -> TradeStatus | None:
    text = status.upper().removeprefix("TRADE_STATUS_")
    return TradeStatus.__members__.get(text)


def taker_fee_estimate(size: Decimal, price: Decimal, fee_rate_bps: int | None) -> Decimal:
    """`size * bps/10000 * p * (1 - p)` to 5 decimals; 0 when the frame gives no rate.

    The trade's `fee_rate_bps` is the V1 signed ceiling (1000), not the market's charged schedule
    (rate 0.07, §6.7), which this parser does not know: the value is an upper estimate that the
    execution side replaces with the schedule's fee (`core.fees.trade_fee`, which this uses with
    the ceiling as the rate). A rate of 100 % or more is not a fee: 0.
    """
    if not fee_rate_bps:
        return Decimal(0)
    try:
        ceiling = FeeSchedule(rate=Decimal(fee_rate_bps) / Decimal(10_000))
    except FeeScheduleError:
        return Decimal(0)
    return trade_fee(ceiling, size, price)


def _fills(
    msg: TradeMessage, recv_ts: datetime, our_api_key: str | None, windows: Mapping[str, str]
) -> tuple[list[Event], list[str]]:
    """Our fills of one trade frame; `source_id` is f"{trade id}:{status}" (per maker order if several)."""
    status = _trade_status(msg.status)
    if status is None:
        return [], [f"trade {msg.id}: unknown status {msg.status!r}"]
    when = msg.timestamp or msg.last_update or msg.match_time
    if when is None:
        return [], [f"trade {msg.id}: no timestamp, last_update or match_time"]
    ours_as_maker = [m for m in msg.maker_orders if our_api_key is not None and m.owner == our_api_key]
    is_maker = msg.trader_side == "MAKER" or (msg.trader_side is None and bool(ours_as_maker))
    common = {
        "source_ts": venue_time(when),
        "recv_ts": recv_ts,
        "trade_id": msg.id,
        "client_order_id": None,
        "window_id": windows.get(msg.market),
        "mode": TradingMode.LIVE,
        "status": status,
        "is_maker": is_maker,
    }
    if not is_maker:
        fee = taker_fee_estimate(msg.size, msg.price, msg.fee_rate_bps)
        fill = Fill(
            **common,
            source_id=f"{msg.id}:{status.value}",
            venue_order_id=msg.taker_order_id,
            token_id=msg.asset_id,
            side=Side(msg.side),
            price=msg.price,
            size=msg.size,
            fee_usd=fee,
        )
        return [fill], []
    if our_api_key is None:
        if len(msg.maker_orders) != 1:
            return [], [f"trade {msg.id}: {len(msg.maker_orders)} maker orders and no api key to tell ours"]
        ours_as_maker = list(msg.maker_orders)
    if not ours_as_maker:
        return [], [f"trade {msg.id}: MAKER trade names no maker order of ours"]
    several = len(ours_as_maker) > 1
    return [
        Fill(
            **common,
            source_id=f"{msg.id}:{m.order_id}:{status.value}" if several else f"{msg.id}:{status.value}",
            venue_order_id=m.order_id,
            token_id=m.asset_id,
            side=Side(m.side),
            price=m.price,
            size=m.matched_amount,
            fee_usd=Decimal(0),
        )
        for m in ours_as_maker
    ], []


def _order_status(msg: OrderMessage) -> OrderStatus | None:
    """Venue order status -> ours. MATCHED short of the full size means the rest was not kept
    (a FAK/FOK remainder, or a marketable remainder the venue dropped): CANCELED with size_matched."""
    text = (msg.status or "").upper().removeprefix("ORDER_STATUS_")
    partly = msg.size_matched > 0
    if msg.type.upper() == "CANCELLATION" or text.startswith("CANCELED"):
        return OrderStatus.CANCELED
    if text.startswith("MATCHED"):
        return OrderStatus.FILLED if msg.size_matched >= msg.original_size else OrderStatus.CANCELED
    if text in ("LIVE", "UNMATCHED", ""):
        return OrderStatus.PARTIALLY_FILLED if partly else OrderStatus.LIVE
    if text.startswith("INVALID"):
        return OrderStatus.REJECTED
    if text.startswith("DELAYED"):
        return OrderStatus.SUBMITTED
    return None


def _order_update(msg: OrderMessage, windows: Mapping[str, str]) -> tuple[list[Event], list[str]]:
    status = _order_status(msg)
    if status is None:
        return [], [f"order {msg.id}: unknown status {msg.status!r}"]
    when = msg.timestamp or msg.created_at
    if when is None:
        return [], [f"order {msg.id}: no timestamp or created_at"]
    update = OrderUpdate(
        client_order_id=venue_client_order_id(msg.id),
        venue_order_id=msg.id,
        window_id=windows.get(msg.market, msg.market.lower()),
        token_id=msg.asset_id,
        mode=TradingMode.LIVE,
        status=status,
        side=Side(msg.side),
        price=msg.price,
        size=msg.original_size,
        size_matched=msg.size_matched,
        event_ts=venue_time(when),
        detail=f"{msg.type} {msg.status or ''}".strip(),
    )
    return [update], []
