"""The simulator's JSON-RPC stand-in: only a well-formed redeemPositions from its signer moves money."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from eth_abi.abi import encode
from eth_account import Account
from eth_utils.address import to_checksum_address

from simulator.chain import COLLATERAL_ADAPTER, PUSD, REDEEM_SELECTOR
from tests.simulator.conftest import HARDHAT_ADDRESS, HARDHAT_KEY, RunningSim


def rpc(sim: RunningSim, method: str, *params: Any) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    answer: dict[str, Any] = httpx.post(f"{sim.url}/rpc", json=body, timeout=10).json()
    return answer


def redeem_tx(sim: RunningSim, nonce: int, to: str = COLLATERAL_ADAPTER, chain_id: int = 137) -> str:
    args = encode(
        ["address", "bytes32", "bytes32", "uint256[]"],
        [PUSD, b"\0" * 32, bytes.fromhex(sim.market.condition_id[2:]), [1, 2]],
    )
    tx = {
        "to": to_checksum_address(to),
        "value": 0,
        "data": "0x" + (REDEEM_SELECTOR + args).hex(),
        "gas": 200_000,
        "gasPrice": 1,
        "nonce": nonce,
        "chainId": chain_id,
    }
    signed = Account.from_key(HARDHAT_KEY).sign_transaction(tx)
    return "0x" + bytes(signed.raw_transaction).hex()


def holds(sim: RunningSim) -> tuple[Decimal, Decimal]:
    ex = sim.exchange
    return ex.balance(HARDHAT_ADDRESS, "COLLATERAL"), ex.balance(HARDHAT_ADDRESS, sim.market.up_token_id)


@pytest.fixture
def resolved(sim: RunningSim) -> RunningSim:
    sim.call(sim.exchange.set_balance, HARDHAT_ADDRESS, sim.market.up_token_id, Decimal(7))
    sim.call(sim.exchange.set_balance, HARDHAT_ADDRESS, "COLLATERAL", Decimal(100))
    sim.call(sim.exchange.resolve_market, sim.market.condition_id, sim.market.up_token_id)
    return sim


def test_a_redeem_is_mined_and_pays_the_winning_shares(resolved: RunningSim) -> None:
    assert rpc(resolved, "eth_chainId")["result"] == hex(137)
    assert rpc(resolved, "eth_getTransactionCount", HARDHAT_ADDRESS, "pending")["result"] == "0x0"
    tx_hash = rpc(resolved, "eth_sendRawTransaction", redeem_tx(resolved, 0))["result"]
    assert rpc(resolved, "eth_getTransactionReceipt", tx_hash)["result"]["status"] == "0x1"
    assert holds(resolved) == (Decimal(107), Decimal(0))
    assert rpc(resolved, "eth_getTransactionCount", HARDHAT_ADDRESS, "pending")["result"] == "0x1"


def test_a_call_to_another_contract_is_mined_reverted_and_moves_nothing(resolved: RunningSim) -> None:
    tx_hash = rpc(resolved, "eth_sendRawTransaction", redeem_tx(resolved, 0, to=PUSD))["result"]
    assert rpc(resolved, "eth_getTransactionReceipt", tx_hash)["result"]["status"] == "0x0"
    assert holds(resolved) == (Decimal(100), Decimal(7))


def test_a_replayed_nonce_and_another_chain_are_refused(resolved: RunningSim) -> None:
    assert "result" in rpc(resolved, "eth_sendRawTransaction", redeem_tx(resolved, 0))
    assert (
        "nonce too low" in rpc(resolved, "eth_sendRawTransaction", redeem_tx(resolved, 0))["error"]["message"]
    )
    wrong = rpc(resolved, "eth_sendRawTransaction", redeem_tx(resolved, 1, chain_id=1))
    assert "chain id" in wrong["error"]["message"]
    assert holds(resolved) == (Decimal(107), Decimal(0))
