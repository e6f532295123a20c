"""Which won positions wait for a redemption, and what a short allowance lacks."""

from __future__ import annotations

from decimal import Decimal

from core.collateral import allowance_gaps, redemptions_due
from core.enums import ExitReason
from core.positions import EntryDone, EntryTrade, HeldToResolution, Position, Resolved, Triggered, apply

D = Decimal


def won(position_id: str, won_: bool = True) -> Position:
    p = Position(position_id)
    for event in (
        EntryTrade("t-" + position_id, D(10), D("0.5"), D(0), D("0.5")),
        EntryDone(),
        Triggered(ExitReason.EXPIRY),
        HeldToResolution("book empty"),
        Resolved(won_),
    ):
        p = apply(p, event)
    return p


def test_won_unredeemed_positions_are_due_once_per_market() -> None:
    due = redemptions_due(
        [("0xc1", won("a")), ("0xc1", won("b")), ("0xc2", won("c", False)), ("0xc3", Position("d"))]
    )
    assert due == ("0xc1",)


def test_an_allowance_below_the_balance_is_a_gap_naming_spender_token_and_amounts() -> None:
    gaps = allowance_gaps(
        {"0xe111": D(0)}, required={"0xe111": "the CTF exchange"}, token="pUSD 0xc011", balance=D(1000)
    )
    (gap,) = gaps
    assert "0xe111" in gap and "CTF exchange" in gap and "pUSD 0xc011" in gap and "1000" in gap


def test_a_spender_the_venue_does_not_list_is_a_gap_and_enough_is_none() -> None:
    assert allowance_gaps({}, required={"0xe111": "x"}, token="pUSD", balance=D(1))
    assert allowance_gaps({"0xE111": D(5)}, required={"0xe111": "x"}, token="pUSD", balance=D(5)) == ()
