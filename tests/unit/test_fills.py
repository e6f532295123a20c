"""core.fills: the simulated fill walks the book like the venue's matching, in exact Decimal."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.enums import BookSide, OrderType, Side
from core.fees import NO_FEES, FeeSchedule, trade_fee
from core.fills import FillOutcome, FillRequest, levels_from, simulate_fill, simulate_on_book
from core.ids import ConditionId, TokenId
from core.models import BookSnapshot, Level
from core.orderbook import OrderBook

D = Decimal
TICK = D("0.01")
CRYPTO = FeeSchedule(D("0.07"), 1, True, D("0.2"))
ASKS = {D("0.55"): D("4"), D("0.56"): D("6"), D("0.60"): D("100")}
BIDS = {D("0.50"): D("3"), D("0.48"): D("10"), D("0.30"): D("50")}


def _buy(size: str, limit: str, kind: OrderType = OrderType.FAK, intended: str | None = None) -> FillRequest:
    return FillRequest(Side.BUY, kind, D(limit), D(size), D(intended) if intended else None)


def test_buy_walks_the_asks_best_first_at_their_own_prices() -> None:
    fill = simulate_fill(ASKS, _buy("8", "0.57", intended="0.55"), CRYPTO, TICK)
    assert fill.outcome is FillOutcome.FILLED
    assert [(lv.price, lv.size) for lv in fill.levels] == [(D("0.55"), D("4")), (D("0.56"), D("4"))]
    assert fill.filled_size == D("8")
    assert fill.notional == D("4.44")
    assert fill.avg_price == D("0.555")
    assert fill.fee == trade_fee(CRYPTO, D("4"), D("0.55")) + trade_fee(CRYPTO, D("4"), D("0.56"))
    assert fill.slippage_usd == D("0.04")  # 4.44 paid vs 8 x 0.55 intended
    assert fill.cash_delta == -(D("4.44") + fill.fee)


def test_fak_stops_at_the_limit_and_drops_the_rest() -> None:
    fill = simulate_fill(ASKS, _buy("20", "0.56"), CRYPTO, TICK)
    assert fill.outcome is FillOutcome.PARTIAL
    assert fill.filled_size == D("10")
    assert fill.requested_size == D("20")
    assert fill.slippage_usd < 0  # filled below the 0.56 limit: the book did better than intended


def test_fok_that_cannot_fill_whole_fills_nothing() -> None:
    fill = simulate_fill(ASKS, _buy("20", "0.56", OrderType.FOK), CRYPTO, TICK)
    assert (fill.outcome, fill.reason, fill.filled_size) == (FillOutcome.KILLED, "fok_not_filled", D(0))
    assert simulate_fill(ASKS, _buy("10", "0.56", OrderType.FOK), CRYPTO, TICK).outcome is FillOutcome.FILLED


def test_fak_with_nothing_crossing_is_killed() -> None:
    fill = simulate_fill(ASKS, _buy("5", "0.54"), CRYPTO, TICK)
    assert (fill.outcome, fill.reason) == (FillOutcome.KILLED, "no_match")
    assert simulate_fill({}, _buy("5", "0.54"), CRYPTO, TICK).outcome is FillOutcome.KILLED


def test_sell_walks_the_bids_down_and_receives_notional_less_fee() -> None:
    req = FillRequest(Side.SELL, OrderType.FAK, D("0.45"), D("5"), D("0.50"))
    fill = simulate_fill(BIDS, req, CRYPTO, TICK)
    assert [(lv.price, lv.size) for lv in fill.levels] == [(D("0.50"), D("3")), (D("0.48"), D("2"))]
    assert fill.notional == D("2.46")
    assert fill.slippage_usd == D("0.04")
    assert fill.cash_delta == D("2.46") - fill.fee


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (_buy("5", "0.995"), "bad_price"),
        (_buy("1", "0.55"), "below_minimum"),  # $0.55
        (_buy("1.67", "0.6"), "amount_precision"),  # maker amount 1.002: 3 decimals
        (_buy("0.001", "0.6"), "bad_size"),  # floors to zero shares
    ],
)
def test_refused_as_the_venue_refuses(request_: FillRequest, reason: str) -> None:
    fill = simulate_fill(ASKS, request_, CRYPTO, TICK)
    assert (fill.outcome, fill.reason, fill.filled_size) == (FillOutcome.REJECTED, reason, D(0))


def test_balance_check_counts_the_fee_at_the_limit() -> None:
    req = _buy("10", "0.60")
    need = D("6") + trade_fee(CRYPTO, D("10"), D("0.60"))
    assert simulate_fill(ASKS, req, CRYPTO, TICK, available=need).outcome is FillOutcome.FILLED
    refused = simulate_fill(ASKS, req, CRYPTO, TICK, available=need - D("0.00001"))
    assert refused.reason == "not_enough_balance"
    sell = FillRequest(Side.SELL, OrderType.FAK, D("0.45"), D("5"))
    assert simulate_fill(BIDS, sell, CRYPTO, TICK, available=D("4.99")).reason == "not_enough_balance"


def test_dollar_buy_uses_the_market_order_rounding() -> None:
    fill = simulate_fill(ASKS, FillRequest.dollars(D("5"), D("0.60"), OrderType.FAK), NO_FEES, TICK)
    assert fill.requested_size == D("8.3333")  # 5 / 0.60 to 4 decimals
    assert fill.filled_size == D("8.3333")
    assert fill.fee == 0


def test_gtc_is_not_simulated_here() -> None:
    with pytest.raises(ValueError):
        simulate_fill(ASKS, _buy("5", "0.6", OrderType.GTC), CRYPTO, TICK)


def test_simulate_on_book_takes_the_other_side_and_the_book_tick() -> None:
    book = OrderBook("1")
    ts = datetime(2026, 6, 8, tzinfo=UTC)
    book.apply_snapshot(
        BookSnapshot(
            source_ts=ts,
            recv_ts=ts,
            token_id=TokenId("1"),
            condition_id=ConditionId("0x" + "a" * 64),
            bids=tuple(Level(price=p, size=s) for p, s in BIDS.items()),
            asks=tuple(Level(price=p, size=s) for p, s in ASKS.items()),
            tick_size=TICK,
        )
    )
    assert simulate_on_book(book, _buy("8", "0.57"), CRYPTO).notional == D("4.44")
    assert book.levels(BookSide.ASK) == ASKS  # the captured book is not consumed


cents = st.integers(1, 99).map(lambda c: D(c) / 100)
books = st.dictionaries(cents, st.integers(1, 5000).map(lambda c: D(c) / 100), max_size=8)


# Whole shares: a BUY's cost then has 2 decimals, which the venue's marketable precision needs.
whole = st.integers(1, 300).map(D)


@given(books, whole, cents, st.sampled_from([Side.BUY, Side.SELL]))
def test_walk_invariants(levels: dict[Decimal, Decimal], size: Decimal, limit: Decimal, side: Side) -> None:
    req = FillRequest(side, OrderType.FAK, limit, size)
    fill = simulate_fill(levels, req, CRYPTO, TICK)
    if size * limit < 1:
        assert fill.reason == "below_minimum"
        return
    crossing = {p: s for p, s in levels.items() if (p <= limit if side is Side.BUY else p >= limit)}
    depth = sum(crossing.values(), D(0))
    assert fill.filled_size == min(size, depth)
    assert fill.outcome is (
        FillOutcome.FILLED if depth >= size else FillOutcome.PARTIAL if depth else FillOutcome.KILLED
    )
    prices = [lv.price for lv in fill.levels]
    assert prices == sorted(prices, reverse=side is Side.SELL)  # best first
    for lv in fill.levels[:-1]:
        assert lv.size == levels[lv.price]  # every level but the last is taken whole
    for lv in fill.levels:
        assert lv.price in crossing and 0 < lv.size <= levels[lv.price]
        assert lv.fee == trade_fee(CRYPTO, lv.size, lv.price)
    if fill.filled_size:
        avg = fill.notional / fill.filled_size
        assert min(prices) <= avg <= max(prices)
        # never worse than the limit
        assert (avg <= limit) if side is Side.BUY else (avg >= limit)
        assert fill.slippage_usd <= 0  # the intended price defaulted to the limit


@given(books, whole, cents)
def test_fok_fills_all_or_nothing(levels: dict[Decimal, Decimal], size: Decimal, limit: Decimal) -> None:
    fill = simulate_fill(levels, FillRequest(Side.BUY, OrderType.FOK, limit, size), CRYPTO, TICK)
    assert fill.filled_size in (0, size)
    assert fill.outcome is not FillOutcome.PARTIAL


def test_the_limit_is_the_one_the_signed_amounts_carry() -> None:
    # 0.565 is signed as 0.56 on a 0.01 tick: the 0.565 ask is above the order the venue sees.
    asks = {D("0.56"): D("5"), D("0.565"): D("5")}
    fill = simulate_fill(asks, _buy("10", "0.565"), CRYPTO, TICK)
    assert (fill.outcome, fill.filled_size) == (FillOutcome.PARTIAL, D("5"))


def test_captured_levels_become_a_walkable_side() -> None:
    levels = (
        Level(price=D("0.55"), size=D("4")),
        Level(price=D("0.56"), size=D("6")),
        Level(price=D("0.55"), size=D("1")),
    )
    assert levels_from(levels) == {D("0.55"): D("5"), D("0.56"): D("6")}
