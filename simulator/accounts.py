"""Per-account balances of collateral and outcome tokens, with amounts held by open orders.

An account is keyed by a string: the signer address for API users (lower-cased), or an owner name
such as "sim-mm" for simulated market makers, whose balance is unlimited (never checked, may go
negative) so scenarios can quote freely. Every movement is a `Transfer` so a FAILED trade can be
reversed exactly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

COLLATERAL = "COLLATERAL"
FEE_ACCOUNT = "sim-fee-collector"
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Transfer:
    account: str
    asset: str
    amount: Decimal


class Ledger:
    """Balances and holds; `asset` is COLLATERAL or a token id."""

    def __init__(self, initial_collateral: Decimal) -> None:
        self.initial_collateral = initial_collateral
        self._balances: dict[str, dict[str, Decimal]] = {}
        self._held: dict[str, defaultdict[str, Decimal]] = {}
        self._unlimited: set[str] = set()

    def ensure(self, account: str) -> None:
        if account not in self._balances:
            start = ZERO if account in self._unlimited or account == FEE_ACCOUNT else self.initial_collateral
            self._balances[account] = {COLLATERAL: start}
            self._held[account] = defaultdict(lambda: ZERO)

    def mark_unlimited(self, account: str) -> None:
        self._unlimited.add(account)
        self.ensure(account)

    def is_unlimited(self, account: str) -> bool:
        return account in self._unlimited

    def accounts(self) -> list[str]:
        return list(self._balances)

    def balance(self, account: str, asset: str) -> Decimal:
        self.ensure(account)
        return self._balances[account].get(asset, ZERO)

    def held(self, account: str, asset: str) -> Decimal:
        self.ensure(account)
        return self._held[account][asset]

    def available(self, account: str, asset: str) -> Decimal:
        return self.balance(account, asset) - self.held(account, asset)

    def can_spend(self, account: str, asset: str, amount: Decimal) -> bool:
        return account in self._unlimited or self.available(account, asset) >= amount

    def set_balance(self, account: str, asset: str, amount: Decimal) -> None:
        self.ensure(account)
        self._balances[account][asset] = amount

    def apply(self, transfers: list[Transfer]) -> None:
        for t in transfers:
            self.ensure(t.account)
            book = self._balances[t.account]
            book[t.asset] = book.get(t.asset, ZERO) + t.amount

    def hold(self, account: str, asset: str, amount: Decimal) -> None:
        self.ensure(account)
        self._held[account][asset] += amount

    def release(self, account: str, asset: str, amount: Decimal) -> None:
        self.ensure(account)
        self._held[account][asset] = max(ZERO, self._held[account][asset] - amount)

    def total(self, asset: str) -> Decimal:
        return sum((b.get(asset, ZERO) for b in self._balances.values()), ZERO)
