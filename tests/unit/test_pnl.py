"""core.pnl: realised P&L is the account's collateral change, fees included, to the micro-dollar."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.enums import ExitReason, PositionState
from core.fees import FeeSchedule, trade_fee
from core.pnl import cents, realized_pnl
from core.positions import (
    EntryDone,
    EntryTrade,
    ExitOrdered,
    ExitTrade,
    HeldToResolution,
    Position,
    Redeemed,
    Resolved,
    Triggered,
    apply,
)

D = Decimal
MICRO = D("0.000001")
CRYPTO = FeeSchedule(D("0.07"), 1, True, D("0.2"))

prices = st.integers(1, 999).map(lambda c: D(c) / 1000)
sizes = st.integers(1, 3000).map(lambda c: D(c) / 100)


def test_a_won_position_held_to_resolution() -> None:
    p = apply(Position("p"), EntryTrade("t1", D("10"), D("0.55"), D("0.01733"), D("0.54")))
    p = apply(apply(p, EntryDone()), Triggered(ExitReason.EXPIRY))
    p = apply(apply(p, HeldToResolution("window_ended")), Resolved(won=True))
    assert realized_pnl(p).realized == D("-5.51733")  # not redeemed yet: nothing back
    assert realized_pnl(p).payout_due == D("10")
    p = apply(p, Redeemed(D("10")))
    pnl = realized_pnl(p)
    assert pnl.realized == D("10") - D("5.5") - D("0.01733")
    assert cents(pnl.realized) == D("4.48")
    assert pnl.slippage == D("0.10")
    assert pnl.payout_due == 0


def test_cents_round_half_even() -> None:
    assert (cents(D("0.125")), cents(D("0.135")), cents(D("-0.125"))) == (D("0.12"), D("0.14"), D("-0.12"))


@given(
    st.lists(st.tuples(sizes, prices, prices), min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(1, 100), prices, prices), max_size=3),
    st.booleans(),
)
def test_pnl_is_payout_minus_cost_minus_fees_and_equals_the_ledger(
    entries: list[tuple[Decimal, Decimal, Decimal]],
    exits: list[tuple[int, Decimal, Decimal]],
    won: bool,
) -> None:
    balance = D(0)  # the account's collateral, moved as the venue moves it: micro-units per trade
    p = Position("p")
    for i, (size, price, intended) in enumerate(entries):
        fee = trade_fee(CRYPTO, size, price)
        p = apply(p, EntryTrade(f"e{i}", size, price, fee, intended))
        balance -= (size * price).quantize(MICRO) + fee
    p = apply(apply(p, EntryDone()), Triggered(ExitReason.STOP_LOSS))
    p = apply(p, ExitOrdered("pw-exit"))
    for i, (pct, price, intended) in enumerate(exits):
        size = (p.size * pct / 100).quantize(D("0.01"))
        if size == 0 or p.state is PositionState.CLOSED:
            continue
        fee = trade_fee(CRYPTO, size, price)
        p = apply(p, ExitTrade(f"x{i}", size, price, fee, intended))
        balance += (size * price).quantize(MICRO) - fee
    if p.state is not PositionState.CLOSED:
        p = apply(p, Resolved(won=won))
        if won and p.size > 0:
            balance += p.size
            p = apply(p, Redeemed(p.size))
    assert p.state is PositionState.CLOSED
    pnl = realized_pnl(p)
    assert pnl.realized == pnl.payout + pnl.exit_proceeds - pnl.entry_cost - pnl.fees
    assert pnl.realized == balance  # exact: every term is whole micro-dollars or 5-decimal fees
    assert cents(pnl.realized) == cents(balance)
    bought = sum((s for s, _, _ in entries), D(0))
    assert pnl.payout == (bought - p.exit_size if won else 0)
    assert pnl.entry_slippage == sum((s * (px - it) for s, px, it in entries), D(0))
