"""The exchange's request, result, refusal and message types, shared by REST, sockets and scenarios."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from simulator.book import Order, Side
from simulator.trades import TradeRecord
from simulator.wire import Json

OrderType = Literal["GTC", "GTD", "FOK", "FAK"]


class VenueError(Exception):
    """A refusal as the venue words it: HTTP status, `{"error": message}` plus any extra keys."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra

    def body(self) -> Json:
        return {"error": self.message, **self.extra}


@dataclass(frozen=True, slots=True)
class MarketMessage:
    condition_id: str
    payload: Json
    custom: bool = False


@dataclass(frozen=True, slots=True)
class UserMessage:
    account: str
    condition_id: str
    payload: Json


Message = MarketMessage | UserMessage


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """A verified order, in its own token's price and shares."""

    order_id: str
    account: str
    token_id: str
    side: Side
    price: Decimal
    size: Decimal
    order_type: OrderType = "GTC"
    post_only: bool = False
    expiration: int = 0
    api_key: str = ""
    maker_address: str = ""


@dataclass(slots=True)
class SubmitResult:
    order: Order
    trades: list[TradeRecord]
    making_amount: Decimal
    taking_amount: Decimal

    @property
    def status(self) -> str:
        return "matched" if self.trades else "live"


def account_key(address_or_owner: str) -> str:
    """Addresses are case-insensitive on the wire; owner names are kept as given."""
    return address_or_owner.lower() if address_or_owner.startswith("0x") else address_or_owner
