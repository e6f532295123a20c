"""Collateral decisions: which markets have won shares waiting to be redeemed, and what a LIVE start
lacks in exchange allowances.

A won position's payout is not capital until it is redeemed (POLYMARKET.md §3): the position stays
EXIT_PENDING with `payout_due` until the payout is in the balance. `redemptions_due` lists the
markets to redeem (one call per market redeems every share of it). `allowance_gaps` says, for each
exchange contract that must be allowed to move our collateral, what is missing, in words an
operator can act on. Pure: positions and the venue's numbers are arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from core.positions import Position

__all__ = ["allowance_gaps", "redemptions_due"]


def redemptions_due(positions: Iterable[tuple[str, Position]]) -> tuple[str, ...]:
    """Condition ids (sorted, once each) of the (condition id, position) pairs with a payout due."""
    return tuple(sorted({cid for cid, p in positions if p.payout_due > 0}))


def allowance_gaps(
    allowances: Mapping[str, Decimal], required: Mapping[str, str], token: str, balance: Decimal
) -> tuple[str, ...]:
    """What is missing for each `required` spender (address -> what it is) to move `balance` of
    `token`, given the venue's `allowances` (spender -> amount; addresses compared case-blind)."""
    have = {spender.lower(): amount for spender, amount in allowances.items()}
    gaps = []
    for spender, what in sorted(required.items()):
        amount = have.get(spender.lower())
        if amount is None:
            gaps.append(f"no {token} allowance for {what} {spender}: approve it to spend {token}")
        elif amount < balance:
            gaps.append(
                f"{token} allowance for {what} {spender} is {amount}, below the balance {balance}:"
                f" approve it to spend {token}"
            )
    return tuple(gaps)
