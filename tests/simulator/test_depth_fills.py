"""Fills walk real depth: a large order takes several levels at their own prices (the volume-weighted
price), the book shows what it took, and the simulated makers do not put it back at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from py_clob_client_v2.clob_types import OrderArgsV2, OrderType, TradeParams

from simulator.accounts import COLLATERAL
from simulator.config import SimulatorConfig
from simulator.exchange import Exchange, OrderRequest
from simulator.markets import ManualClock, SimMarket
from tests.simulator.conftest import RunningSim
from tests.simulator.test_client_roundtrip import client_for

START = datetime(2026, 9, 28, 9, 0, tzinfo=UTC)
MARKET = SimMarket(
    condition_id="0x" + "ef" * 32,
    slug="btc-updown-15m-1790586000",
    question="Bitcoin Up or Down",
    asset="btc",
    interval_s=900,
    up_token_id="31",
    down_token_id="32",
    start=START,
    end=START + timedelta(minutes=15),
)
TAKER = "0x" + "00" * 19 + "77"


def test_an_order_larger_than_the_top_level_walks_the_book_at_the_volume_weighted_price(
    sim: RunningSim,
) -> None:
    up = sim.market.up_token_id
    for price, size in (("0.50", "10"), ("0.51", "20"), ("0.52", "30")):
        sim.quote(up, "SELL", price, size)
    client = client_for(sim)
    order = client.create_order(OrderArgsV2(token_id=up, price=0.52, size=45.0, side="BUY"))
    filled = client.post_order(order, OrderType.GTC)

    assert filled["status"] == "matched"
    # 10 @ 0.50 + 20 @ 0.51 + 15 @ 0.52 = $23.00 for 45 shares: 0.5111 a share, not the top's 0.50.
    assert Decimal(filled["makingAmount"]) == Decimal("23")
    assert Decimal(filled["takingAmount"]) == Decimal("45")
    trades = client.get_trades(TradeParams(market=sim.market.condition_id))
    walked = sorted((Decimal(t["price"]), Decimal(t["size"])) for t in trades)
    assert walked == [
        (Decimal("0.5"), Decimal(10)),
        (Decimal("0.51"), Decimal(20)),
        (Decimal("0.52"), Decimal(15)),
    ]
    book = client.get_order_book(up)
    assert book["asks"] == [{"price": "0.52", "size": "15"}], "the two levels it took are gone"
    spent = Decimal("1000") - Decimal(client.get_balance_allowance(_collateral())["balance"]) / Decimal(10**6)
    fees = sum((MARKET.taker_fee(s, p) for p, s in walked), Decimal(0))
    assert spent == Decimal("23") + fees

    # The maker requotes at once (as a requote loop would): the swept levels stay short.
    sim.quote(up, "SELL", "0.50", "10")
    sim.quote(up, "SELL", "0.51", "25")
    book = client.get_order_book(up)
    assert book["asks"] == [
        {"price": "0.52", "size": "15"},
        {"price": "0.51", "size": "5"},
    ], "a swept level is not refilled instantly"


def _collateral() -> object:
    from py_clob_client_v2.clob_types import AssetType, BalanceAllowanceParams

    return BalanceAllowanceParams(asset_type=AssetType.COLLATERAL)


def exchange(seed: int, delay_s: float = 10.0) -> tuple[Exchange, ManualClock]:
    clock = ManualClock(START + timedelta(minutes=1))
    ex = Exchange(SimulatorConfig(seed=seed, refill_delay_s=delay_s), clock)
    ex.add_market(MARKET)
    ex.set_balance(TAKER, COLLATERAL, Decimal(1_000_000))
    return ex, clock


def sweep(ex: Exchange, size: str = "10") -> None:
    ex.place_liquidity(MARKET.up_token_id, "SELL", Decimal("0.60"), Decimal(size))
    req = OrderRequest(
        "0x" + "1" * 64, TAKER, MARKET.up_token_id, "BUY", Decimal("0.60"), Decimal(size), "FOK"
    )
    assert ex.submit(req).order.size_matched == Decimal(size)


def asks(ex: Exchange) -> list[tuple[Decimal, Decimal]]:
    return ex._state(MARKET.condition_id).book.levels(MARKET.up_token_id)[1]


def test_a_swept_level_refills_at_its_seeded_time_and_not_before() -> None:
    ex, clock = exchange(seed=3)
    sweep(ex)
    due = ex.refill_at(MARKET.up_token_id, "SELL", Decimal("0.60"))
    assert due is not None
    assert START + timedelta(minutes=1, seconds=5) <= due < START + timedelta(minutes=1, seconds=15)
    clock.set(due - timedelta(milliseconds=1))
    ex.place_liquidity(MARKET.up_token_id, "SELL", Decimal("0.60"), Decimal("25"))
    assert asks(ex) == [(Decimal("0.60"), Decimal("15"))], "still 10 short until the refill time"
    ex.cancel_owner_orders("sim-mm")
    clock.set(due)
    ex.place_liquidity(MARKET.up_token_id, "SELL", Decimal("0.60"), Decimal("25"))
    assert asks(ex) == [(Decimal("0.60"), Decimal("25"))]


def test_refill_times_follow_the_seed() -> None:
    dues = []
    for seed in (3, 3, 4):
        ex, _ = exchange(seed)
        sweep(ex)
        dues.append(ex.refill_at(MARKET.up_token_id, "SELL", Decimal("0.60")))
    assert dues[0] == dues[1] and dues[0] != dues[2]


def test_a_zero_refill_delay_refills_at_once() -> None:
    ex, _ = exchange(seed=3, delay_s=0)
    sweep(ex)
    ex.place_liquidity(MARKET.up_token_id, "SELL", Decimal("0.60"), Decimal("10"))
    assert asks(ex) == [(Decimal("0.60"), Decimal("10"))]


ladder = st.lists(
    st.tuples(st.integers(1, 40), st.integers(500, 50_000)), min_size=1, max_size=8, unique_by=lambda t: t[0]
)


@settings(max_examples=100, deadline=None)
@given(ladder, st.integers(1, 100), st.booleans())
def test_a_taker_pays_exactly_the_hand_walk_of_the_levels(
    levels: list[tuple[int, int]], percent: int, on_down: bool
) -> None:
    """Any ladder of Up asks, bought as Up or sold as Down: cost, fees and the book left match a hand walk."""
    ex, _ = exchange(seed=1)
    book = sorted((Decimal(50 + c) / 100, Decimal(s) / 100) for c, s in levels)
    for price, size in book:
        ex.place_liquidity(MARKET.up_token_id, "SELL", price, size)
    depth = sum((s for _, s in book), Decimal(0))
    want = max(
        Decimal(5), (depth * Decimal(percent) / 100).quantize(Decimal("0.01"))
    )  # a limit order's minimum
    expected_cash, expected_fee, left, rest = Decimal(0), Decimal(0), want, []
    for price, size in book:
        take = min(left, size)
        left -= take
        if take:
            own = 1 - price if on_down else price
            expected_cash += take * own
            expected_fee += MARKET.taker_fee(take, own)
        if size - take:
            rest.append((price, size - take))
    if on_down:  # selling Down at 1 - p meets the Up asks (a MERGE): the taker needs Down shares
        ex.set_balance(TAKER, MARKET.down_token_id, want)
        limit = 1 - book[-1][0]
        req = OrderRequest("0x" + "2" * 64, TAKER, MARKET.down_token_id, "SELL", limit, want)
    else:
        req = OrderRequest("0x" + "2" * 64, TAKER, MARKET.up_token_id, "BUY", book[-1][0], want)
    result = ex.submit(req)
    assert result.order.size_matched == want
    cash = result.taking_amount if on_down else result.making_amount
    assert cash == expected_cash
    assert sum(t.fee for t in result.trades) == expected_fee
    assert asks(ex) == sorted(rest, reverse=True)
