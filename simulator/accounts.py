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
MAX_ALLOWANCE = Decimal(2**256 - 1)
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
        self._allowances: dict[tuple[str, str], Decimal] = {}

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

    def holders(self, *assets: str) -> list[str]:
        """Accounts holding a non-zero balance of any of `assets`."""
        return [a for a, book in self._balances.items() if any(book.get(x, ZERO) != 0 for x in assets)]

    def redeem(self, account: str, winning_token: str, losing_token: str) -> Decimal:
        """CTF `redeemPositions` for one account: burn both tokens, pay 1 collateral per winning share."""
        self.ensure(account)
        won = self.balance(account, winning_token)
        self.set_balance(account, winning_token, ZERO)
        self.set_balance(account, losing_token, ZERO)
        if won:
            self.apply([Transfer(account, COLLATERAL, won)])
        return won

    def allowance(self, account: str, spender: str) -> Decimal:
        """What `account` has approved `spender` (an exchange contract) to move; unlimited unless set."""
        return self._allowances.get((account, spender.lower()), MAX_ALLOWANCE)

    def set_allowance(self, account: str, spender: str, amount: Decimal) -> None:
        self._allowances[(account, spender.lower())] = amount
