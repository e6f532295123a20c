"""Intake of a V2 signed order (POLYMARKET.md §6, §11): shape, EIP-712 signature, owner, amounts.

The order id is the EIP-712 digest, as the exchange's `hashOrder` returns it. The digest is built
with eth_abi and the signer recovered with coincurve (the same bytes eth_account signs, but fast
enough for the throughput bench). Price and size are derived from the signed integer amounts:
BUY pays makerAmount collateral for takerAmount shares, SELL the reverse.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from coincurve import PublicKey
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

from simulator.auth import Principal
from simulator.book import Side
from simulator.exchange import OrderRequest, OrderType, VenueError

EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B"
ORDER_TYPE_STRING = (
    "Order(uint256 salt,address maker,address signer,uint256 tokenId,"
    "uint256 makerAmount,uint256 takerAmount,uint8 side,uint8 signatureType,"
    "uint256 timestamp,bytes32 metadata,bytes32 builder)"
)
ORDER_TYPE_HASH = keccak(text=ORDER_TYPE_STRING)
DOMAIN_TYPE_HASH = keccak(
    text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
)
MICROS = Decimal(1_000_000)
ORDER_TYPES = ("GTC", "GTD", "FOK", "FAK")
BAD_PAYLOAD = "Invalid order payload"


def domain_separator(chain_id: int, exchange: str = EXCHANGE_V2) -> bytes:
    return keccak(
        abi_encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [DOMAIN_TYPE_HASH, keccak(text="Polymarket CTF Exchange"), keccak(text="2"), chain_id, exchange],
        )
    )


def _bytes32(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x").zfill(64))


def order_digest(order: dict[str, Any], separator: bytes) -> bytes:
    """keccak256(0x1901 ‖ domainSeparator ‖ structHash) of a wire-format V2 order."""
    struct = keccak(
        abi_encode(
            [
                "bytes32",
                "uint256",
                "address",
                "address",
                "uint256",
                "uint256",
                "uint256",
                "uint8",
                "uint8",
                "uint256",
                "bytes32",
                "bytes32",
            ],
            [
                ORDER_TYPE_HASH,
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
            ],
        )
    )
    return keccak(b"\x19\x01" + separator + struct)


def recover_signer(digest: bytes, signature: str) -> str:
    raw = bytes.fromhex(signature.removeprefix("0x"))
    if len(raw) != 65:
        raise ValueError("signature must be 65 bytes")
    v = raw[64]
    recovery = v - 27 if v >= 27 else v
    public = PublicKey.from_signature_and_message(raw[:64] + bytes([recovery]), digest, hasher=None)
    return "0x" + keccak(public.format(compressed=False)[1:])[-20:].hex()


def _decimals_ok(micros: int, decimals: int) -> bool:
    return bool(micros % (10 ** (6 - decimals)) == 0)


class OrderIntake:
    """Turns an authenticated `POST /order` body into an `OrderRequest`, or refuses it."""

    def __init__(self, chain_id: int) -> None:
        self._separator = domain_separator(chain_id)

    def parse(self, body: Any, who: Principal) -> OrderRequest:
        if not isinstance(body, dict) or not isinstance(body.get("order"), dict):
            raise VenueError(400, BAD_PAYLOAD)
        order = cast(dict[str, Any], body["order"])
        order_type = body.get("orderType", "GTC")
        try:
            side = order["side"]
            maker_amount = int(order["makerAmount"])
            taker_amount = int(order["takerAmount"])
            expiration = int(order.get("expiration") or 0)
            signature_type = int(order["signatureType"])
            digest = order_digest(order, self._separator)
            signature = str(order["signature"])
        except (KeyError, TypeError, ValueError) as exc:
            raise VenueError(400, BAD_PAYLOAD) from exc
        if (
            side not in ("BUY", "SELL")
            or order_type not in ORDER_TYPES
            or maker_amount <= 0
            or taker_amount <= 0
        ):
            raise VenueError(400, BAD_PAYLOAD)
        order_id = "0x" + digest.hex()
        if body.get("owner") != who.api_key:
            raise VenueError(400, "the order owner has to be the owner of the API KEY")
        signer = str(order["signer"])
        if signer.lower() != who.address.lower():
            raise VenueError(400, "the order signer address has to be the address of the API KEY")
        if signature_type not in (0, 1, 2):
            raise VenueError(
                400, f"order {order_id} is invalid. signature type {signature_type} is not supported"
            )
        if signature_type == 0 and str(order["maker"]).lower() != signer.lower():
            raise VenueError(400, f"order {order_id} is invalid. maker must be the signer for EOA orders")
        try:
            recovered = recover_signer(digest, signature)
        except Exception as exc:
            raise VenueError(400, f"order {order_id} is invalid. invalid signature") from exc
        if recovered.lower() != signer.lower():
            raise VenueError(400, f"order {order_id} is invalid. invalid signature")
        typed = cast(OrderType, order_type)
        return self._request(
            order_id,
            order,
            cast(Side, side),
            maker_amount,
            taker_amount,
            typed,
            expiration,
            who,
            bool(body.get("postOnly", False)),
        )

    def _request(
        self,
        order_id: str,
        order: dict[str, Any],
        side: Side,
        maker_amount: int,
        taker_amount: int,
        order_type: OrderType,
        expiration: int,
        who: Principal,
        post_only: bool,
    ) -> OrderRequest:
        if order_type in ("FOK", "FAK") and not (
            _decimals_ok(maker_amount, 2) and _decimals_ok(taker_amount, 4)
        ):
            word = "buy" if side == "BUY" else "sell"
            raise VenueError(
                400,
                f"invalid amounts, the market {word} orders maker amount supports a max accuracy of 2 decimals, "
                "taker amount a max of 4 decimals",
            )
        if side == "BUY":
            size, cash = Decimal(taker_amount) / MICROS, Decimal(maker_amount) / MICROS
        else:
            size, cash = Decimal(maker_amount) / MICROS, Decimal(taker_amount) / MICROS
        return OrderRequest(
            order_id=order_id,
            account=who.account,
            token_id=str(order["tokenId"]),
            side=side,
            price=cash / size,
            size=size,
            order_type=order_type,
            post_only=post_only,
            expiration=expiration,
            api_key=who.api_key,
            maker_address=str(order["maker"]),
        )
