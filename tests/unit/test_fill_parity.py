"""The simulated fill and fee agree with the simulator's matching engine and fee, level by level.

The simulator computes fees itself today (`SimMarket.taker_fee`); until it calls `core.fees`, this
keeps the two definitions equal. It is also the check that DRY_RUN's walk of a captured book gives
what the venue stand-in would have done with the same book.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Literal

from hypothesis import given
from hypothesis import strategies as st

from core.enums import OrderType, Side
from core.fees import FeeSchedule, trade_fee
from core.fills import FillOutcome, FillRequest, simulate_fill
from simulator.book import MarketBook, Order
from simulator.markets import SimMarket

D = Decimal
UP, DOWN = "1111", "2222"
START = datetime(2026, 6, 8, 8, 15, tzinfo=UTC)
MARKET = SimMarket(
    condition_id="0x" + "ab" * 32,
    slug="btc-updown-5m-1780906500",
    question="q",
    asset="btc",
    interval_s=300,
    up_token_id=UP,
    down_token_id=DOWN,
    start=START,
    end=START + timedelta(minutes=5),
)
SCHEDULE = FeeSchedule(MARKET.fee_rate, MARKET.fee_exponent)

cents = st.integers(1, 99).map(lambda c: D(c) / 100)
levels = st.dictionaries(cents, st.integers(1, 5000).map(lambda c: D(c) / 100), min_size=1, max_size=8)


@given(st.integers(0, 10**6).map(lambda c: D(c) / 100), cents)
def test_fee_equals_the_simulators(size: Decimal, price: Decimal) -> None:
    assert trade_fee(SCHEDULE, size, price) == MARKET.taker_fee(size, price)


@given(levels, st.integers(2, 300).map(D), cents, st.sampled_from([Side.BUY, Side.SELL]))
def test_walk_equals_the_simulators_matching(
    book: dict[Decimal, Decimal], size: Decimal, limit: Decimal, side: Side
) -> None:
    engine = MarketBook(UP, DOWN)
    maker_side: Literal["BUY", "SELL"] = "SELL" if side is Side.BUY else "BUY"
    taker_side: Literal["BUY", "SELL"] = "BUY" if side is Side.BUY else "SELL"
    for i, (price, level) in enumerate(sorted(book.items())):
        engine.rest(Order(f"m{i}", "maker", UP, True, maker_side, price, level))
    taker = Order("t", "taker", UP, True, taker_side, limit, size, order_type="FAK")
    fills = engine.match(taker)

    ours = simulate_fill(book, FillRequest(side, OrderType.FAK, limit, size), SCHEDULE, D("0.01"))
    if ours.outcome is FillOutcome.REJECTED:
        assert size * limit < 1  # the only refusal these whole-share orders can meet
        return
    theirs = [(f.taker_price, f.size, MARKET.taker_fee(f.size, f.taker_price)) for f in fills]
    assert [(lv.price, lv.size, lv.fee) for lv in ours.levels] == theirs
