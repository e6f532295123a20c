"""A Polygon JSON-RPC stand-in at `/rpc`: just enough chain for redeeming resolved positions.

On the venue, collateral comes back from a resolved window by an on-chain call, not a CLOB call
(POLYMARKET.md §3): `redeemPositions(collateral, 0x0, conditionId, [1, 2])`, which Polymarket's SDK
(`polymarket-client`, `redeem_positions`) sends from an EOA as a signed transaction over JSON-RPC:
`eth_chainId`, `eth_getTransactionCount`, `eth_gasPrice`, `eth_estimateGas`,
`eth_sendRawTransaction`, then `eth_getTransactionReceipt` until it has a status. This module
answers exactly those. A sent transaction is mined at once: the sender is recovered from its
signature, the call decoded, and the account's shares of the resolved market are burnt and its
winning shares paid 1 collateral each (`Ledger.redeem`). A call that would revert on chain (the
market not resolved, another contract or function, a wrong collateral) is mined with status 0 and
moves nothing. Legacy (EIP-155) transactions only, as the SDK sends them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import rlp
from eth_abi.abi import decode as abi_decode
from eth_account import Account
from eth_utils.crypto import keccak
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulator.exchange import Exchange
from simulator.protocol import VenueError, account_key

# Polymarket's production addresses as the SDK's environment names them: redemption of a standard
# (not neg-risk) market goes to the collateral adapter, in pUSD.
COLLATERAL_ADAPTER = "0xada100db00ca00073811820692005400218fce1f"
PUSD = "0xc011a7e12a19f7b1f670d46f03b03f3342e82dfb"
REDEEM_SELECTOR = keccak(text="redeemPositions(address,bytes32,bytes32,uint256[])")[:4]
_GAS_PRICE = 30_000_000_000
_GAS = 200_000


@dataclass
class Chain:
    """Nonces and receipts of the simulated chain."""

    chain_id: int
    nonces: dict[str, int] = field(default_factory=dict)
    receipts: dict[str, dict[str, Any]] = field(default_factory=dict)
    block: int = 1


class RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _redeem(exchange: Exchange, sender: str, to: str, data: bytes) -> str:
    """Apply a redeem call; returns "" on success or the revert reason."""
    if to != COLLATERAL_ADAPTER or data[:4] != REDEEM_SELECTOR:
        return "unsupported call"
    collateral, parent, condition, index_sets = abi_decode(
        ["address", "bytes32", "bytes32", "uint256[]"], data[4:]
    )
    if str(collateral).lower() != PUSD or parent != b"\x00" * 32 or list(index_sets) != [1, 2]:
        return "bad redeem arguments"
    return redeem_positions(exchange, sender, "0x" + condition.hex())


def redeem_positions(exchange: Exchange, address: str, condition_id: str) -> str:
    """What a mined `redeemPositions` of `address` does: "" when done, else the revert reason."""
    try:
        winner = exchange.winner(condition_id)
    except VenueError:
        return "condition not prepared"
    if winner is None:
        return "result for condition not received yet"
    other = exchange.market(condition_id).other_token(winner)
    exchange.ledger.redeem(account_key(address), winner, other)
    return ""


def _send(chain: Chain, exchange: Exchange, raw_hex: str) -> str:
    raw = bytes.fromhex(raw_hex.removeprefix("0x"))
    try:
        fields = rlp.decode(raw)
        sender = str(Account.recover_transaction(raw))
    except Exception as exc:
        raise RpcError(-32000, f"invalid transaction: {exc}") from exc
    if not isinstance(fields, list) or len(fields) != 9:
        raise RpcError(-32000, "only legacy transactions are supported")
    nonce = int.from_bytes(fields[0], "big")
    to = "0x" + bytes(fields[3]).hex()
    v = int.from_bytes(fields[6], "big")
    if v not in (chain.chain_id * 2 + 35, chain.chain_id * 2 + 36):
        raise RpcError(-32000, "invalid chain id")
    key = sender.lower()
    if nonce != chain.nonces.get(key, 0):
        raise RpcError(-32000, f"nonce too low: expected {chain.nonces.get(key, 0)}, got {nonce}")
    chain.nonces[key] = nonce + 1
    tx_hash = "0x" + keccak(raw).hex()
    reason = _redeem(exchange, sender, to, bytes(fields[5]))
    chain.block += 1
    chain.receipts[tx_hash] = {
        "transactionHash": tx_hash,
        "blockNumber": hex(chain.block),
        "from": key,
        "to": to,
        "status": "0x0" if reason else "0x1",
        "gasUsed": hex(_GAS // 2),
        "logs": [],
        "revertReason": reason,
    }
    return tx_hash


def _dispatch(chain: Chain, exchange: Exchange, method: str, params: list[Any]) -> Any:
    if method == "eth_chainId":
        return hex(chain.chain_id)
    if method == "eth_getTransactionCount":
        return hex(chain.nonces.get(str(params[0]).lower(), 0))
    if method == "eth_gasPrice":
        return hex(_GAS_PRICE)
    if method == "eth_estimateGas":
        return hex(_GAS)
    if method == "eth_blockNumber":
        return hex(chain.block)
    if method == "eth_sendRawTransaction":
        return _send(chain, exchange, str(params[0]))
    if method == "eth_getTransactionReceipt":
        return chain.receipts.get(str(params[0]).lower())
    raise RpcError(-32601, f"the method {method} does not exist/is not available")


def chain_routes(exchange: Exchange) -> list[Route]:
    """`POST /rpc`: JSON-RPC 2.0 (single requests)."""
    chain = Chain(exchange.config.chain_id)

    async def rpc(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            method, params, rid = str(body["method"]), list(body.get("params") or []), body.get("id")
        except (ValueError, KeyError, TypeError):
            return JSONResponse(
                {"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}}
            )
        try:
            result = _dispatch(chain, exchange, method, params)
        except RpcError as exc:
            return JSONResponse(
                {"jsonrpc": "2.0", "id": rid, "error": {"code": exc.code, "message": exc.message}}
            )
        return JSONResponse({"jsonrpc": "2.0", "id": rid, "result": result})

    return [Route("/rpc", rpc, methods=["POST"])]
