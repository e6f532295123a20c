"""Collateral comes back only by redeeming: an unredeemed win is capital not yet available; the
redeem call (JSON-RPC, as Polymarket's SDK sends it) pays it into the balance. LIVE start-up names
a missing exchange allowance."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import AssetType, BalanceAllowanceParams, MarketOrderArgsV2, OrderType
from py_clob_client_v2.config import get_contract_config
from pydantic import SecretStr

from execution.collateral_check import CollateralNotReady, check_collateral_ready
from execution.redeem import ChainRpc, Redeemer, RedeemFailed
from tests.integration.safety_venue import client_for, running_sim
from tests.simulator.conftest import HARDHAT_ADDRESS, HARDHAT_KEY, RunningSim


@pytest.fixture
def venue() -> Iterator[tuple[RunningSim, ClobClient]]:
    with running_sim() as sim:
        yield sim, client_for(sim)


def balance(client: ClobClient, token: str | None = None) -> Decimal:
    kind = AssetType.COLLATERAL if token is None else AssetType.CONDITIONAL
    answer = client.get_balance_allowance(BalanceAllowanceParams(asset_type=kind, token_id=token))
    return Decimal(answer["balance"]) / 1_000_000


def buy_ten(sim: RunningSim, client: ClobClient, token: str) -> None:
    sim.quote(token, "SELL", "0.50", "100")
    order = client.create_market_order(
        MarketOrderArgsV2(token_id=token, amount=5.0, side="BUY", order_type=OrderType.FOK)
    )
    assert client.post_order(order, OrderType.FOK)["status"] == "matched"
    assert balance(client, token) == Decimal(10)


def redeemer(sim: RunningSim, client: ClobClient) -> Redeemer:
    return Redeemer(ChainRpc(f"{sim.url}/rpc"), SecretStr(HARDHAT_KEY), client)


def test_a_won_position_is_paid_only_once_redeemed(venue: tuple[RunningSim, ClobClient]) -> None:
    sim, client = venue
    m = sim.market
    buy_ten(sim, client, m.up_token_id)
    after_buy = balance(client)
    sim.call(sim.exchange.resolve_market, m.condition_id, m.up_token_id)
    assert balance(client) == after_buy, "resolution alone pays nothing: the win is not capital yet"
    assert balance(client, m.up_token_id) == Decimal(10)
    receipt = redeemer(sim, client).redeem(m.condition_id, m.up_token_id)
    assert receipt.shares_won == Decimal(10) and receipt.paid == Decimal(10)
    assert balance(client) == after_buy + 10
    assert balance(client, m.up_token_id) == 0
    again = redeemer(sim, client).redeem(m.condition_id, m.up_token_id)
    assert again.paid == 0, "a second redeem finds nothing left"


def test_a_lost_position_redeems_nothing_and_burns_the_shares(venue: tuple[RunningSim, ClobClient]) -> None:
    sim, client = venue
    m = sim.market
    buy_ten(sim, client, m.down_token_id)
    after_buy = balance(client)
    sim.call(sim.exchange.resolve_market, m.condition_id, m.up_token_id)
    receipt = redeemer(sim, client).redeem(m.condition_id, m.up_token_id)
    assert receipt.paid == 0 and balance(client) == after_buy
    assert balance(client, m.down_token_id) == 0


def test_redeeming_before_resolution_reverts_and_moves_nothing(venue: tuple[RunningSim, ClobClient]) -> None:
    sim, client = venue
    m = sim.market
    buy_ten(sim, client, m.up_token_id)
    before = balance(client)
    with pytest.raises(RedeemFailed, match="not received yet"):
        redeemer(sim, client).redeem(m.condition_id, m.up_token_id)
    assert balance(client) == before and balance(client, m.up_token_id) == Decimal(10)


def test_live_start_up_names_a_missing_exchange_allowance(venue: tuple[RunningSim, ClobClient]) -> None:
    sim, client = venue
    assert check_collateral_ready(client) == balance(client)
    exchange = get_contract_config(137).exchange_v2
    answer = sim.admin("/allowance", {"address": HARDHAT_ADDRESS, "spender": exchange, "amount": "0"})
    assert answer.status_code == 200
    with pytest.raises(CollateralNotReady) as refused:
        check_collateral_ready(client)
    (gap,) = refused.value.gaps
    assert exchange in gap and "is 0" in gap and "pUSD" in gap and "approve" in gap
