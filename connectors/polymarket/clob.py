"""The venue's private CLOB through py-clob-client-v2, unmodified (POLYMARKET.md §4-§6, §11).

`Venue.connect` derives the API credentials from the private key (L1 create-or-derive, then L2), so
nothing but the key has to be configured; the credentials never leave this object. `sign` builds
and signs an order with the client and returns the exact wire body and its venue order id, the
EIP-712 digest the exchange's `hashOrder` returns: the id is known before the POST, so the order can
be stored first and looked up after any failure. `post` sends that stored body (a re-post of the
same body is the same order: the venue refuses it as a duplicate). Venue words stay here: callers
get Decimals and `PostFailed(status, error)`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import (
    ApiCreds,
    AssetType,
    BalanceAllowanceParams,
    OrderArgsV2,
    PartialCreateOrderOptions,
    RequestArgs,
    TradeParams,
)
from py_clob_client_v2.exceptions import PolyApiException
from py_clob_client_v2.headers.headers import create_level_2_headers
from py_clob_client_v2.http_helpers import helpers as http
from py_clob_client_v2.order_utils.model.order_data_v2 import order_to_json_v2
from pydantic import SecretStr

from connectors.polymarket.user_ws import ApiCreds as UserCreds
from connectors.polymarket.user_ws import UserChannel
from core.enums import OrderType, Side
from core.fees import FeeSchedule, fee_schedule_from_clob
from core.ids import VenueOrderId
from core.money import from_micros, parse_decimal
from core.venue_errors import Remedy, classify

__all__ = ["EXCHANGE_V2", "PostFailed", "SignedOrder", "Venue", "order_digest"]

EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B"
_ORDER_TYPE = keccak(
    text="Order(uint256 salt,address maker,address signer,uint256 tokenId,"
    "uint256 makerAmount,uint256 takerAmount,uint8 side,uint8 signatureType,"
    "uint256 timestamp,bytes32 metadata,bytes32 builder)"
)
_DOMAIN_TYPE = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
_STRUCT = ["bytes32", "uint256", "address", "address", "uint256", "uint256", "uint256", "uint8", "uint8"]
_STRUCT += ["uint256", "bytes32", "bytes32"]


def _bytes32(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x").zfill(64))


def _separator(chain_id: int, exchange: str) -> bytes:
    parts = [_DOMAIN_TYPE, keccak(text="Polymarket CTF Exchange"), keccak(text="2"), chain_id, exchange]
    return keccak(abi_encode(["bytes32", "bytes32", "bytes32", "uint256", "address"], parts))


def order_digest(order: Mapping[str, Any], chain_id: int = 137, exchange: str = EXCHANGE_V2) -> VenueOrderId:
    """The venue order id of a wire-format V2 order: keccak256(0x1901 ‖ domain ‖ struct hash)."""
    values = [
        _ORDER_TYPE,
        int(order["salt"]),
        order["maker"],
        order["signer"],
        int(order["tokenId"]),
        int(order["makerAmount"]),
        int(order["takerAmount"]),
        0 if order["side"] == "BUY" else 1,
        int(order["signatureType"]),
        int(order["timestamp"]),
        _bytes32(order["metadata"]),
        _bytes32(order["builder"]),
    ]
    struct = keccak(abi_encode(_STRUCT, values))
    return VenueOrderId("0x" + keccak(b"\x19\x01" + _separator(chain_id, exchange) + struct).hex())


class PostFailed(Exception):
    """A venue call without a 200: `status` None when no answer came at all."""

    def __init__(self, status: int | None, error: str, retry_after_s: float | None = None) -> None:
        super().__init__(f"{status}: {error}")
        self.status = status
        self.error = error
        self.retry_after_s = retry_after_s


def _failed(exc: PolyApiException) -> PostFailed:
    body = exc.error_msg
    error = str(body.get("error", body)) if isinstance(body, dict) else str(body)
    retry = body.get("retry_after_seconds") if isinstance(body, dict) else None
    return PostFailed(exc.status_code, error, float(retry) if isinstance(retry, int | float) else None)


@dataclass(frozen=True, slots=True)
class SignedOrder:
    """The exact `POST /order` body, and the order's venue id (its digest)."""

    body: dict[str, Any]
    venue_order_id: VenueOrderId
    shares: Decimal
    collateral: Decimal


class Venue:
    """One account at the CLOB: signing, posting, and the reads the executor confirms with."""

    def __init__(
        self,
        host: str,
        private_key: SecretStr,
        chain_id: int = 137,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._host = host.rstrip("/")
        self._chain_id = chain_id
        self._client = ClobClient(host=self._host, chain_id=chain_id, key=private_key.get_secret_value())
        self._creds: ApiCreds | None = None
        self._conditions: dict[str, str] = {}
        self._sleep = sleep
        self._monotonic = time.monotonic
        self._info: dict[str, tuple[float, tuple[Decimal, FeeSchedule]]] = {}
        self.info_ttl_s = 5.0
        self.read_attempts = 4
        self.read_backoff_s = 0.2

    def connect(self) -> None:
        """Derive the L2 API credentials from the key (L1): create them, or derive existing ones."""
        try:
            self._creds = self._client.create_or_derive_api_key()
        except PolyApiException as exc:
            raise _failed(exc) from None
        self._client.set_api_creds(self._creds)

    @property
    def address(self) -> str:
        return str(self._client.get_address())

    def user_channel(self, url: str) -> UserChannel:
        """The user channel (`/ws/user`) authenticated with the credentials derived at `connect`."""
        if self._creds is None:
            raise RuntimeError("connect() first: no API credentials")
        creds = UserCreds(
            self._creds.api_key, SecretStr(self._creds.api_secret), SecretStr(self._creds.api_passphrase)
        )
        return UserChannel(url, creds)

    @property
    def client(self) -> ClobClient:
        """The connected py-clob-client-v2 client, for the safety reads (reconciliation, allowance)."""
        return self._client

    def _call(self, fn: Any, *args: Any) -> Any:
        """A read, asked again (up to `read_attempts`) while the answer is transient (no answer, 429,
        5xx: `core.venue_errors`), after the venue's Retry-After when it says one."""
        for attempt in range(self.read_attempts):
            try:
                return fn(*args)
            except PolyApiException as exc:
                failed = _failed(exc)
                if (
                    classify(failed.status, failed.error) is not Remedy.RETRY
                    or attempt + 1 == self.read_attempts
                ):
                    raise failed from None
                self._sleep(failed.retry_after_s if failed.retry_after_s is not None else self.read_backoff_s)
        raise AssertionError("unreachable")

    def balance(self) -> Decimal:
        """Collateral the venue says the account holds (micro-units on the wire)."""
        params = BalanceAllowanceParams(asset_type=AssetType.COLLATERAL)
        answer = self._call(self._client.get_balance_allowance, params)
        return from_micros(str(answer["balance"]))

    def condition_of(self, token_id: str) -> str:
        if token_id not in self._conditions:
            answer = self._call(http.get, f"{self._host}/markets-by-token/{token_id}")
            self._conditions[token_id] = str(answer["condition_id"])
        return self._conditions[token_id]

    def market_info(self, token_id: str) -> tuple[Decimal, FeeSchedule]:
        """The token's tick size and its market's fee schedule (V2 `GET /clob-markets/{cid}`), asked
        again after `info_ttl_s` (a tick changes at 0.96/0.04: an order signed on a stale one is
        refused by the venue, never filled at a wrong price)."""
        now = self._monotonic()
        cached = self._info.get(token_id)
        if cached is not None and now - cached[0] < self.info_ttl_s:
            return cached[1]
        info = self._call(self._client.get_clob_market_info, self.condition_of(token_id))
        tick = info["mts"]
        found = (
            parse_decimal(repr(tick) if isinstance(tick, float) else tick),
            fee_schedule_from_clob(info.get("fd") or {"r": 0}),
        )
        self._info[token_id] = (now, found)
        return found

    def book(self, token_id: str) -> dict[str, Any]:
        answer: dict[str, Any] = self._call(self._client.get_order_book, token_id)
        return answer

    def sign(
        self,
        token_id: str,
        side: Side,
        price: Decimal,
        size: Decimal,
        order_type: OrderType,
        tick: Decimal,
        metadata: str,
    ) -> SignedOrder:
        """A limit order of `size` shares at `price` signed with the client (its own rounding)."""
        if self._creds is None:
            raise RuntimeError("connect() first: no API credentials")
        args = OrderArgsV2(
            token_id=token_id, price=float(price), size=float(size), side=side.value, metadata=metadata
        )
        options = PartialCreateOrderOptions(tick_size=str(tick), neg_risk=False)
        signed = self._call(self._client.create_order, args, options)
        body = order_to_json_v2(signed, self._creds.api_key, order_type.value)
        order = body["order"]
        maker, taker = int(order["makerAmount"]), int(order["takerAmount"])
        shares, cash = (taker, maker) if side is Side.BUY else (maker, taker)
        return SignedOrder(body, order_digest(order, self._chain_id), from_micros(shares), from_micros(cash))

    def post(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST a stored order body as it is; raises PostFailed when the answer is not a 200."""
        if self._creds is None:
            raise RuntimeError("connect() first: no API credentials")
        serialized = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        args = RequestArgs(method="POST", request_path="/order", body=body, serialized_body=serialized)
        headers = create_level_2_headers(self._client.signer, self._creds, args)
        try:
            answer: dict[str, Any] = http.post(f"{self._host}/order", headers, serialized)
        except PolyApiException as exc:
            raise _failed(exc) from None
        return answer

    def order(self, venue_order_id: str) -> dict[str, Any] | None:
        """The venue's record of an order of ours, or None when it has none (404)."""
        try:
            answer: dict[str, Any] = self._client.get_order(venue_order_id)
        except PolyApiException as exc:
            if exc.status_code == 404:
                return None
            raise _failed(exc) from None
        return answer

    def trades_of(self, venue_order_id: str, token_id: str) -> list[dict[str, Any]]:
        """Every trade of the account on `token_id` in which `venue_order_id` took part."""
        trades = self._call(self._client.get_trades, TradeParams(asset_id=token_id))
        return [
            t
            for t in trades
            if t.get("taker_order_id") == venue_order_id
            or any(m.get("order_id") == venue_order_id for m in t.get("maker_orders") or [])
        ]
