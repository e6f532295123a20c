"""Redeem won positions after resolution: collateral comes back only by this on-chain call.

On the venue, redemption is CTF `redeemPositions(pUSD, 0x0, conditionId, [1, 2])` through the
collateral adapter, not a CLOB call (POLYMARKET.md §3). Polymarket's SDK `polymarket-client`
(`redeem_positions`) sends it from an EOA as a signed transaction over JSON-RPC, and this module
does the same on the same endpoint (the simulator serves it at `/rpc`, simulator.chain). It is a
thin client of that path rather than the SDK because the SDK cannot be installed beside our pins
(it requires websockets<16, eth-abi<6 and eth-utils<6; py-clob-client-v2 and our sockets run on
websockets 17, eth-abi 6, eth-utils 6) and its environments are fixed to production (no public way
to give it another RPC, relayer or Gamma address). The call data, the transaction fields and the
JSON-RPC sequence are the SDK's: chain id check, nonce, gas price, gas estimate, raw send, receipt
polling (status 1 succeeded, 0 reverted).

`Redeemer.redeem(condition_id, winning_token)` returns what arrived in the balance, read from the
venue's collateral balance before and after: a position is CLOSED only when its payout is there
(`core.positions.Redeemed`), and the reconciliation's collateral mark must be moved by the same
amount (`execution.reconcile.add_to_collateral_mark`). The executor does both, for the markets
`core.collateral.redemptions_due` lists. A redeem sent before the venue has the result reverts
("result for condition not received yet": `RedeemFailed`, nothing moved): try again later (the
venue's redeemable listing lags resolution by minutes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import httpx
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_utils.crypto import keccak
from py_clob_client_v2.clob_types import AssetType, BalanceAllowanceParams
from pydantic import SecretStr

from core.money import from_micros

__all__ = ["BalanceReads", "ChainRpc", "RedeemFailed", "RedeemReceipt", "Redeemer", "redeem_call_data"]

# Polymarket's production contracts as the SDK's environment names them (standard markets).
COLLATERAL_ADAPTER = "0xAdA100Db00Ca00073811820692005400218FcE1f"
PUSD = "0xC011a7E12a19f7B1f670d46F03B03f3342E82DFB"
_SELECTOR = keccak(text="redeemPositions(address,bytes32,bytes32,uint256[])")[:4]


class RedeemFailed(RuntimeError):
    """The redemption did not happen (refused, reverted, or no receipt in time)."""


class BalanceReads(Protocol):
    def get_balance_allowance(self, params: Any = None) -> Any: ...


@dataclass(frozen=True, slots=True)
class RedeemReceipt:
    condition_id: str
    tx_hash: str
    shares_won: Decimal
    paid: Decimal


def redeem_call_data(condition_id: str) -> str:
    """`redeemPositions(pUSD, 0x0, conditionId, [1, 2])` call data, as the SDK encodes it."""
    condition = bytes.fromhex(condition_id.removeprefix("0x"))
    if len(condition) != 32:
        raise ValueError(f"not a condition id: {condition_id}")
    args = abi_encode(["address", "bytes32", "bytes32", "uint256[]"], [PUSD, b"\x00" * 32, condition, [1, 2]])
    return "0x" + (_SELECTOR + args).hex()


class ChainRpc:
    """JSON-RPC 2.0 over HTTP; an `error` answer raises RedeemFailed with the node's message."""

    def __init__(self, url: str, http: httpx.Client | None = None) -> None:
        self.url = url
        self._http = http or httpx.Client(timeout=10)
        self._id = 0

    def call(self, method: str, params: list[Any]) -> Any:
        self._id += 1
        answer = self._http.post(
            self.url, json={"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}
        )
        answer.raise_for_status()
        body = answer.json()
        if body.get("error"):
            raise RedeemFailed(f"{method}: {body['error'].get('message')}")
        return body.get("result")


class Redeemer:
    """Redeems for the EOA of `private_key` (a secret: never logged) through `rpc`, reading balances
    from the venue through `venue` (py-clob-client-v2)."""

    def __init__(
        self,
        rpc: ChainRpc,
        private_key: SecretStr,
        venue: BalanceReads,
        chain_id: int = 137,
        receipt_timeout_s: float = 60.0,
        poll_s: float = 0.2,
    ) -> None:
        self._rpc = rpc
        self._key = private_key
        self._venue = venue
        self.chain_id = chain_id
        self.receipt_timeout_s = receipt_timeout_s
        self.poll_s = poll_s

    def redeem(self, condition_id: str, winning_token: str) -> RedeemReceipt:
        shares = self._balance(AssetType.CONDITIONAL, winning_token)
        before = self._balance(AssetType.COLLATERAL)
        tx_hash = self._send(redeem_call_data(condition_id))
        receipt = self._receipt(tx_hash)
        if receipt.get("status") not in ("0x1", 1):
            reason = receipt.get("revertReason") or "reverted"
            raise RedeemFailed(f"redeem of {condition_id} reverted ({tx_hash}): {reason}")
        paid = self._balance(AssetType.COLLATERAL) - before
        return RedeemReceipt(condition_id, tx_hash, shares, paid)

    def _send(self, data: str) -> str:
        account = Account.from_key(self._key.get_secret_value())
        actual = int(str(self._rpc.call("eth_chainId", [])), 16)
        if actual != self.chain_id:
            raise RedeemFailed(f"the RPC endpoint is chain {actual}, expected {self.chain_id}")
        nonce = int(str(self._rpc.call("eth_getTransactionCount", [account.address, "pending"])), 16)
        gas_price = int(str(self._rpc.call("eth_gasPrice", [])), 16)
        estimate = {"from": account.address, "to": COLLATERAL_ADAPTER, "value": "0x0", "data": data}
        gas = int(str(self._rpc.call("eth_estimateGas", [estimate])), 16)
        tx = {
            "to": COLLATERAL_ADAPTER,
            "value": 0,
            "data": data,
            "gas": gas,
            "gasPrice": gas_price,
            "nonce": nonce,
            "chainId": self.chain_id,
        }
        signed = account.sign_transaction(tx)
        return str(self._rpc.call("eth_sendRawTransaction", ["0x" + signed.raw_transaction.hex()]))

    def _receipt(self, tx_hash: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.receipt_timeout_s
        while True:
            receipt = self._rpc.call("eth_getTransactionReceipt", [tx_hash])
            if isinstance(receipt, dict) and receipt.get("status") is not None:
                return receipt
            if time.monotonic() > deadline:
                raise RedeemFailed(f"no receipt for {tx_hash} after {self.receipt_timeout_s} s")
            time.sleep(self.poll_s)

    def _balance(self, asset_type: str, token_id: str | None = None) -> Decimal:
        params = BalanceAllowanceParams(asset_type=asset_type, token_id=token_id)
        return from_micros(str(self._venue.get_balance_allowance(params)["balance"]))
