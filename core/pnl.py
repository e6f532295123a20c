"""Realised P&L of a position, net of fees, with the slippage its fills had (issue 12, seed 0.7).

realized = payout + exit proceeds - entry cost - fees, exact in Decimal: entry cost and exit
proceeds are sums of price x size over the position's trades (at most 2 share decimals times at
most 4 price decimals, so every term is a whole number of micro-dollars, as the chain moves them),
fees are the schedule's (`core.fees`, 5 decimals), and the payout is 1 per winning share redeemed.
That is the account's collateral change over the position's life, which is what the simulator's
balance shows; `cents` rounds it half-even for reports that compare to the cent.
Slippage is kept apart and is never part of the P&L: it is already in the prices paid.
Pure: Decimal only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from core.enums import PositionState
from core.positions import Position

__all__ = ["CENT", "PnL", "cents", "realized_pnl"]

CENT = Decimal("0.01")


def cents(amount: Decimal) -> Decimal:
    """`amount` rounded half-even to the cent."""
    return amount.quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class PnL:
    """A position's money: what it paid, received and was charged, and what slippage cost it."""

    entry_cost: Decimal
    exit_proceeds: Decimal
    payout: Decimal
    fees: Decimal
    entry_slippage: Decimal
    exit_slippage: Decimal
    payout_due: Decimal

    @property
    def realized(self) -> Decimal:
        """Collateral back minus collateral out, fees included (exact)."""
        return self.payout + self.exit_proceeds - self.entry_cost - self.fees

    @property
    def slippage(self) -> Decimal:
        """Dollars lost against the intended prices, entry and exit together (negative: improvement)."""
        return self.entry_slippage + self.exit_slippage


def realized_pnl(position: Position) -> PnL:
    """The P&L of `position` as booked so far; final once the position is CLOSED.

    A won position not yet redeemed has its payout in `payout_due`, not in `realized`: the money is
    not in the balance until the redemption.
    """
    return PnL(
        entry_cost=position.entry_cost,
        exit_proceeds=position.exit_proceeds,
        payout=position.payout,
        fees=position.fees,
        entry_slippage=position.entry_slippage,
        exit_slippage=position.exit_slippage,
        payout_due=position.payout_due if position.state is not PositionState.CLOSED else Decimal(0),
    )
