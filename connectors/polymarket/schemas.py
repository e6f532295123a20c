"""The venue's websocket frames as pydantic models, in the venue's own words (POLYMARKET.md §7, §8).

Tolerant of extra keys (the venue adds fields without notice), strict about the ones we read:
prices and sizes must be decimal strings (a JSON float is refused, it cannot hold "0.57"), times
digit strings or integers. One discriminated union per socket on `event_type`; `parse.py` maps
these to `core` events so that `core` never sees venue field names.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, model_validator

from core.money import parse_decimal


def _integer(value: Any) -> int:
    """An integer time or count from a digit string or a JSON integer (never a float or bool)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"expected an integer or digit string, got {type(value).__name__}")
    if isinstance(value, str) and not value.strip().isdigit():
        raise ValueError(f"not a digit string: {value!r}")
    return int(value)


WireDecimal = Annotated[Decimal, BeforeValidator(parse_decimal)]
WireInt = Annotated[int, BeforeValidator(_integer)]
VenueSide = Literal["BUY", "SELL"]


class _Frame(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class OrderSummary(_Frame):
    price: WireDecimal
    size: WireDecimal


# -- market channel (§7) ----------------------------------------------------------------------------


class BookMessage(_Frame):
    event_type: Literal["book"]
    asset_id: str
    market: str
    bids: list[OrderSummary]
    asks: list[OrderSummary]
    timestamp: WireInt
    hash: str | None = None
    tick_size: WireDecimal | None = None


class PriceChangeEntry(_Frame):
    """One level of the current shape; `size`, `hash` and `best_*` are optional on the wire."""

    asset_id: str
    price: WireDecimal
    side: VenueSide
    size: WireDecimal | None = None
    hash: str | None = None
    best_bid: WireDecimal | None = None
    best_ask: WireDecimal | None = None


class LegacyChange(_Frame):
    """A `changes[]` item of the pre-2025-09-15 shape (token and hash are on the event)."""

    price: WireDecimal
    side: VenueSide
    size: WireDecimal | None = None


class PriceChangeMessage(_Frame):
    """Either `price_changes[]` (current) or top-level `asset_id` + `changes[]` (before 2025-09-15)."""

    event_type: Literal["price_change"]
    market: str
    timestamp: WireInt
    price_changes: list[PriceChangeEntry] | None = None
    asset_id: str | None = None
    hash: str | None = None
    changes: list[LegacyChange] | None = None

    @model_validator(mode="after")
    def _one_shape(self) -> PriceChangeMessage:
        if self.price_changes is None and (self.asset_id is None or self.changes is None):
            raise ValueError("price_change has neither price_changes[] nor asset_id with changes[]")
        return self


class TickSizeChangeMessage(_Frame):
    event_type: Literal["tick_size_change"]
    asset_id: str
    market: str
    old_tick_size: WireDecimal
    new_tick_size: WireDecimal
    timestamp: WireInt


class LastTradePriceMessage(_Frame):
    event_type: Literal["last_trade_price"]
    asset_id: str
    market: str
    price: WireDecimal
    size: WireDecimal
    side: VenueSide
    timestamp: WireInt
    fee_rate_bps: WireInt | None = None
    transaction_hash: str | None = None


class BestBidAskMessage(_Frame):
    event_type: Literal["best_bid_ask"]
    asset_id: str
    market: str
    best_bid: WireDecimal | None = None
    best_ask: WireDecimal | None = None
    timestamp: WireInt


class NewMarketMessage(_Frame):
    event_type: Literal["new_market"]
    market: str
    slug: str
    assets_ids: list[str]
    outcomes: list[str]
    timestamp: WireInt
    id: str | int | None = None
    question: str | None = None


class MarketResolvedMessage(_Frame):
    event_type: Literal["market_resolved"]
    market: str
    slug: str
    assets_ids: list[str]
    outcomes: list[str]
    winning_asset_id: str
    winning_outcome: str
    timestamp: WireInt
    id: str | int | None = None


MarketMessage = Annotated[
    BookMessage
    | PriceChangeMessage
    | TickSizeChangeMessage
    | LastTradePriceMessage
    | BestBidAskMessage
    | NewMarketMessage
    | MarketResolvedMessage,
    Field(discriminator="event_type"),
]
MARKET_MESSAGE: TypeAdapter[MarketMessage] = TypeAdapter(MarketMessage)


# -- user channel (§8) ------------------------------------------------------------------------------


class MakerOrder(_Frame):
    order_id: str
    asset_id: str
    matched_amount: WireDecimal
    price: WireDecimal
    side: VenueSide
    owner: str | None = None
    outcome: str | None = None


class TradeMessage(_Frame):
    """A trade touching our orders; one frame per status change of the same trade `id`."""

    event_type: Literal["trade"]
    id: str
    taker_order_id: str
    market: str
    asset_id: str
    side: VenueSide
    size: WireDecimal
    price: WireDecimal
    status: str
    maker_orders: list[MakerOrder] = Field(default_factory=list)
    trader_side: Literal["TAKER", "MAKER"] | None = None
    fee_rate_bps: WireInt | None = None
    match_time: WireInt | None = None
    last_update: WireInt | None = None
    timestamp: WireInt | None = None
    owner: str | None = None
    transaction_hash: str | None = None


class OrderMessage(_Frame):
    """One of our orders: PLACEMENT when it rests, UPDATE on each match, CANCELLATION on cancel."""

    event_type: Literal["order"]
    id: str
    market: str
    asset_id: str
    side: VenueSide
    price: WireDecimal
    original_size: WireDecimal
    size_matched: WireDecimal
    type: str
    status: str | None = None
    timestamp: WireInt | None = None
    created_at: WireInt | None = None
    owner: str | None = None


UserMessage = Annotated[TradeMessage | OrderMessage, Field(discriminator="event_type")]
USER_MESSAGE: TypeAdapter[UserMessage] = TypeAdapter(UserMessage)
