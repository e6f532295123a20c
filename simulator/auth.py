"""Real venue authentication: L1 EIP-712 ClobAuth signatures, API keys, L2 HMAC (POLYMARKET.md §4).

Timestamps are checked against wall time (the client signs with its own wall clock), within
`skew_s` either way, whatever speed the scenario clock runs at. API keys are deterministic per
(address, nonce) under a server seed, as the venue's are per wallet.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import encode_typed_data

from simulator.exchange import VenueError

CLOB_AUTH_MESSAGE = "This message attests that I control the given wallet"
L1_ERROR = "Invalid L1 Request headers"
L2_ERROR = "Unauthorized/Invalid api key"


@dataclass(frozen=True, slots=True)
class ApiCreds:
    api_key: str
    secret: str
    passphrase: str
    address: str

    def json(self) -> dict[str, str]:
        return {"apiKey": self.api_key, "secret": self.secret, "passphrase": self.passphrase}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who an authenticated L2 request comes from; `account` is the exchange's account key."""

    address: str
    api_key: str

    @property
    def account(self) -> str:
        return self.address.lower()


def clob_auth_digest_message(address: str, timestamp: str, nonce: int, chain_id: int) -> object:
    return encode_typed_data(
        full_message={
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                ],
                "ClobAuth": [
                    {"name": "address", "type": "address"},
                    {"name": "timestamp", "type": "string"},
                    {"name": "nonce", "type": "uint256"},
                    {"name": "message", "type": "string"},
                ],
            },
            "primaryType": "ClobAuth",
            "domain": {"name": "ClobAuthDomain", "version": "1", "chainId": chain_id},
            "message": {
                "address": address,
                "timestamp": timestamp,
                "nonce": nonce,
                "message": CLOB_AUTH_MESSAGE,
            },
        }
    )


def hmac_signature(secret: str, timestamp: str, method: str, path: str, body: str) -> str:
    """The client's L2 signature: url-safe b64 HMAC-SHA256 over ts+METHOD+path+body."""
    message = f"{timestamp}{method}{path}{body.replace(chr(39), chr(34))}"
    digest = hmac.new(base64.urlsafe_b64decode(secret), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()


class ApiKeyStore:
    """Created API keys, by (address, nonce) and by key."""

    def __init__(self, seed: str, chain_id: int = 137, skew_s: int = 30) -> None:
        self._seed = seed.encode()
        self.chain_id = chain_id
        self.skew_s = skew_s
        self._by_address: dict[tuple[str, int], ApiCreds] = {}
        self._by_key: dict[str, ApiCreds] = {}

    def _derive(self, address: str, nonce: int) -> ApiCreds:
        def part(label: str) -> bytes:
            return hmac.new(
                self._seed, f"{label}:{address.lower()}:{nonce}".encode(), hashlib.sha256
            ).digest()

        key = str(uuid.UUID(bytes=part("key")[:16], version=4))
        secret = base64.urlsafe_b64encode(part("secret")).decode()
        return ApiCreds(key, secret, part("passphrase").hex(), address)

    def create(self, address: str, nonce: int) -> ApiCreds:
        """Idempotent per (address, nonce), as the venue's keys are deterministic."""
        slot = (address.lower(), nonce)
        creds = self._by_address.get(slot)
        if creds is None:
            creds = self._derive(address, nonce)
            self._by_address[slot] = creds
            self._by_key[creds.api_key] = creds
        return creds

    def derive(self, address: str, nonce: int) -> ApiCreds:
        creds = self._by_address.get((address.lower(), nonce))
        if creds is None:
            raise VenueError(400, "Could not derive api key!")
        return creds

    def delete(self, api_key: str) -> None:
        creds = self._by_key.pop(api_key, None)
        if creds is not None:
            self._by_address = {k: v for k, v in self._by_address.items() if v.api_key != api_key}

    def keys_of(self, address: str) -> list[str]:
        return [c.api_key for c in self._by_key.values() if c.address.lower() == address.lower()]

    def lookup(self, api_key: str) -> ApiCreds | None:
        return self._by_key.get(api_key)

    def check_user_auth(self, api_key: str, secret: str, passphrase: str) -> ApiCreds | None:
        """User-channel auth frame: all three must match a created key."""
        creds = self._by_key.get(api_key)
        if creds is None:
            return None
        ok = secrets.compare_digest(creds.secret, secret) and secrets.compare_digest(
            creds.passphrase, passphrase
        )
        return creds if ok else None

    def _fresh(self, timestamp: str) -> bool:
        try:
            ts = int(timestamp)
        except ValueError:
            return False
        return abs(time.time() - ts) <= self.skew_s

    def verify_l1(self, headers: Mapping[str, str]) -> tuple[str, int]:
        """Check L1 headers; returns (checksummed address, nonce) or raises 401."""
        address = headers.get("poly_address", "")
        signature = headers.get("poly_signature", "")
        timestamp = headers.get("poly_timestamp", "")
        try:
            nonce = int(headers.get("poly_nonce", "0") or "0")
            message = clob_auth_digest_message(address, timestamp, nonce, self.chain_id)
            recovered = Account.recover_message(message, signature=signature)
        except Exception as exc:
            raise VenueError(401, L1_ERROR) from exc
        if recovered.lower() != address.lower() or not self._fresh(timestamp):
            raise VenueError(401, L1_ERROR)
        return recovered, nonce

    def verify_l2(self, headers: Mapping[str, str], method: str, path: str, body: bytes) -> Principal:
        """Check L2 headers over the exact body bytes and the path without its query."""
        api_key = headers.get("poly_api_key", "")
        creds = self._by_key.get(api_key)
        if creds is None:
            raise VenueError(401, L2_ERROR)
        timestamp = headers.get("poly_timestamp", "")
        passphrase_ok = secrets.compare_digest(headers.get("poly_passphrase", ""), creds.passphrase)
        address_ok = headers.get("poly_address", "").lower() == creds.address.lower()
        try:
            text = body.decode()
        except UnicodeDecodeError as exc:
            raise VenueError(401, L2_ERROR) from exc
        expected = hmac_signature(creds.secret, timestamp, method, path, text)
        signature_ok = secrets.compare_digest(headers.get("poly_signature", ""), expected)
        if not (passphrase_ok and address_ok and signature_ok and self._fresh(timestamp)):
            raise VenueError(401, L2_ERROR)
        return Principal(creds.address, creds.api_key)
