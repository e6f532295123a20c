"""LIVE start-up check: the exchange may move our collateral, or LIVE does not start.

Orders are refused with "not enough balance / allowance" when the CTF exchange is not approved to
spend the account's pUSD (POLYMARKET.md §6.6). `check_collateral_ready(client)` reads the balance and
allowances the venue reports (`GET /balance-allowance`, asset COLLATERAL) and raises
`CollateralNotReady` naming, for each exchange contract, what is missing (`core.collateral`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from py_clob_client_v2.clob_types import AssetType, BalanceAllowanceParams
from py_clob_client_v2.config import get_contract_config

from core.collateral import allowance_gaps
from core.money import from_micros

__all__ = ["CollateralNotReady", "check_collateral_ready"]


class AllowanceReads(Protocol):
    def get_balance_allowance(self, params: Any = None) -> Any: ...


class CollateralNotReady(RuntimeError):
    def __init__(self, gaps: tuple[str, ...]) -> None:
        self.gaps = gaps
        super().__init__("LIVE cannot start: " + "; ".join(gaps))


def check_collateral_ready(client: AllowanceReads, chain_id: int = 137) -> Decimal:
    """The collateral balance when every exchange may spend it; else `CollateralNotReady`."""
    contracts = get_contract_config(chain_id)
    answer = client.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
    balance = from_micros(str(answer["balance"]))
    allowances = {str(k): from_micros(str(v)) for k, v in (answer.get("allowances") or {}).items()}
    token = f"pUSD ({contracts.collateral})"
    gaps = allowance_gaps(allowances, {contracts.exchange_v2: "the CTF exchange"}, token, balance)
    if balance <= 0:
        gaps = (*gaps, f"the collateral balance is {balance}: deposit {token} first")
    if gaps:
        raise CollateralNotReady(gaps)
    return balance
