"""Matching-engine invariants under random order flow (hypothesis), on the Exchange without a server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.accounts import COLLATERAL, FEE_ACCOUNT
from simulator.chain import redeem_positions
from simulator.config import SimulatorConfig
from simulator.exchange import Exchange, OrderRequest, VenueError
from simulator.markets import ManualClock, SimMarket

ACCOUNTS = ["0x" + f"{i:040x}" for i in (1, 2, 3)]
START = datetime(2026, 6, 8, 8, 15, tzinfo=UTC)
MARKET = SimMarket(
    condition_id="0x" + "cd" * 32,
    slug="btc-updown-5m-1780906500",
    question="Bitcoin Up or Down",
    asset="btc",
    interval_s=300,
    up_token_id="11",
    down_token_id="22",
    start=START,
    end=START + timedelta(minutes=5),
)

op = st.tuples(
    st.sampled_from(["order", "order", "order", "cancel"]),
    st.integers(0, 2),
    st.sampled_from([MARKET.up_token_id, MARKET.down_token_id]),
    st.sampled_from(["BUY", "SELL"]),
    st.integers(1, 99),
    st.integers(500, 6000),
    st.sampled_from(["GTC", "GTC", "FOK", "FAK"]),
)


def fresh_exchange() -> Exchange:
    ex = Exchange(SimulatorConfig(initial_collateral_usd=Decimal(200)), ManualClock(START))
    ex.add_market(MARKET)
    for account in ACCOUNTS:
        ex.set_balance(account, COLLATERAL, Decimal(200))
        ex.set_balance(account, MARKET.up_token_id, Decimal(100))
        ex.set_balance(account, MARKET.down_token_id, Decimal(100))
    return ex


def totals(ex: Exchange) -> tuple[Decimal, Decimal, Decimal]:
    return (
        ex.ledger.total(COLLATERAL),
        ex.ledger.total(MARKET.up_token_id),
        ex.ledger.total(MARKET.down_token_id),
    )


def check_invariants(ex: Exchange) -> None:
    book = ex._state(MARKET.condition_id).book
    bid, ask = book.best_up()
    assert bid is None or ask is None or bid < ask, "book crossed at rest"
    for ladder in (book.bids, book.asks):
        for price, queue in ladder.queues.items():
            assert queue and ladder.totals[price] == sum(o.remaining for o in queue)
    collateral, up, down = totals(ex)
    assert up == down, "every share has its complement"
    assert collateral + up == Decimal(600) + Decimal(300), "collateral plus locked pairs is conserved"
    for account in ACCOUNTS:
        for asset in (COLLATERAL, MARKET.up_token_id, MARKET.down_token_id):
            assert ex.ledger.balance(account, asset) >= 0
            assert ex.ledger.available(account, asset) >= -Decimal("0.000001")
    assert ex.ledger.balance(FEE_ACCOUNT, COLLATERAL) >= 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=1, max_size=60))
def test_random_flow_keeps_the_invariants(ops: list[tuple[str, int, str, str, int, int, str]]) -> None:
    ex = fresh_exchange()
    placed: list[tuple[str, str]] = []
    for n, (kind, who, token, side, cents, centi_shares, order_type) in enumerate(ops):
        account = ACCOUNTS[who]
        if kind == "cancel":
            if placed:
                owner, oid = placed[n % len(placed)]
                ex.cancel(owner, [oid])
            check_invariants(ex)
            continue
        size = Decimal(centi_shares) / 100
        price = Decimal(cents) / 100
        req = OrderRequest(f"0x{n:064x}", account, token, side, price, size, order_type)  # type: ignore[arg-type]
        before = totals(ex)
        trades_before = len(ex._trades)
        try:
            result = ex.submit(req)
        except VenueError:
            assert totals(ex) == before and len(ex._trades) == trades_before, "a refusal changes nothing"
        else:
            if order_type == "FOK":
                assert result.order.size_matched == size, "FOK fills all or nothing"
            if order_type in ("FOK", "FAK"):
                assert result.order.status != "LIVE"
            placed.append((account, result.order.id))
        check_invariants(ex)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 99), st.integers(500, 5000))
def test_taker_fee_follows_the_schedule(cents: int, centi_shares: int) -> None:
    price, size = Decimal(cents) / 100, Decimal(centi_shares) / 100
    fee = MARKET.taker_fee(size, price)
    exact = size * Decimal("0.07") * price * (1 - price)
    assert abs(fee - exact) <= Decimal("0.000005")
    assert fee == fee.quantize(Decimal("0.00001"))


def test_mint_match_pays_each_side_its_own_price() -> None:
    ex = fresh_exchange()
    a, b = ACCOUNTS[0], ACCOUNTS[1]
    ex.submit(OrderRequest("0x" + "a" * 64, a, MARKET.up_token_id, "BUY", Decimal("0.57"), Decimal(10)))
    result = ex.submit(
        OrderRequest("0x" + "b" * 64, b, MARKET.down_token_id, "BUY", Decimal("0.45"), Decimal(10))
    )
    trade = result.trades[0]
    assert (
        trade.kind == "MINT" and trade.taker_price == Decimal("0.43") and trade.maker_price == Decimal("0.57")
    )
    assert ex.balance(a, COLLATERAL) == Decimal("194.3")
    assert ex.balance(b, COLLATERAL) == Decimal(200) - Decimal("4.3") - MARKET.taker_fee(
        Decimal(10), Decimal("0.43")
    )
    assert ex.balance(a, MARKET.up_token_id) == Decimal(110)
    assert ex.balance(b, MARKET.down_token_id) == Decimal(110)


def test_resolution_cancels_resting_orders_and_only_a_redeem_pays_winners() -> None:
    ex = fresh_exchange()
    a = ACCOUNTS[0]
    ex.submit(OrderRequest("0x" + "c" * 64, a, MARKET.up_token_id, "BUY", Decimal("0.30"), Decimal(10)))
    assert redeem_positions(ex, a, MARKET.condition_id) == "result for condition not received yet"
    ex.resolve_market(MARKET.condition_id, MARKET.up_token_id)
    assert ex.order("0x" + "c" * 64).status == "CANCELED_MARKET_RESOLVED"  # type: ignore[union-attr]
    assert ex.balance(a, COLLATERAL) == Decimal(200), "an unredeemed win is not capital yet"
    assert ex.balance(a, MARKET.up_token_id) == Decimal(100)
    assert ex.ledger.available(a, COLLATERAL) == Decimal(200)
    assert redeem_positions(ex, a, MARKET.condition_id) == ""
    assert ex.balance(a, COLLATERAL) == Decimal(300)
    assert ex.balance(a, MARKET.up_token_id) == 0 and ex.balance(a, MARKET.down_token_id) == 0
    assert ex.ledger.available(a, COLLATERAL) == Decimal(300)


def test_gtd_order_expires_on_scenario_time() -> None:
    clock = ManualClock(START)
    ex = Exchange(SimulatorConfig(), clock)
    ex.add_market(MARKET)
    a = ACCOUNTS[0]
    expiry = int(START.timestamp()) + 90
    gtd = OrderRequest(
        "0x" + "d" * 64, a, MARKET.up_token_id, "BUY", Decimal("0.30"), Decimal(10), "GTD", expiration=expiry
    )
    ex.submit(gtd)
    too_soon = OrderRequest(
        "0x" + "e" * 64,
        a,
        MARKET.up_token_id,
        "BUY",
        Decimal("0.30"),
        Decimal(10),
        "GTD",
        expiration=int(START.timestamp()) + 30,
    )
    try:
        ex.submit(too_soon)
        raise AssertionError("a GTD inside the 60 s margin must be refused")
    except VenueError as refused:
        assert "invalid expiration" in refused.message
    ex.pump()
    assert [o.id for o in ex.open_orders(a)] == [gtd.order_id]
    clock.advance(91)
    ex.pump()
    assert ex.open_orders(a) == [] and ex.ledger.held(a, COLLATERAL) == 0


def test_post_only_that_would_cross_is_refused() -> None:
    ex = fresh_exchange()
    ex.place_liquidity(MARKET.up_token_id, "SELL", Decimal("0.50"), Decimal(10))
    crossing = OrderRequest(
        "0x" + "f" * 64, ACCOUNTS[0], MARKET.up_token_id, "BUY", Decimal("0.50"), Decimal(10), post_only=True
    )
    try:
        ex.submit(crossing)
        raise AssertionError("post-only must not take liquidity")
    except VenueError as refused:
        assert "post-only" in refused.message


def test_tick_size_changes_when_price_passes_096() -> None:
    ex = fresh_exchange()
    seen: list[dict[str, object]] = []
    ex.listeners.append(lambda message: seen.append(message.payload))
    ex.place_liquidity(MARKET.up_token_id, "SELL", Decimal("0.97"), Decimal(10))
    ex.submit(
        OrderRequest("0x" + "9" * 64, ACCOUNTS[0], MARKET.up_token_id, "BUY", Decimal("0.97"), Decimal(10))
    )
    changes = [p for p in seen if p["event_type"] == "tick_size_change"]
    assert {p["asset_id"] for p in changes} == set(MARKET.token_ids)
    assert ex.tick_size(MARKET.up_token_id) == Decimal("0.001")


def test_finished_market_maker_orders_are_forgotten_but_ours_are_kept() -> None:
    ex = fresh_exchange()
    requoted = [
        ex.place_liquidity(MARKET.up_token_id, "BUY", Decimal("0.40"), Decimal(50)) for _ in range(200)
    ]
    assert ex.cancel_owner_orders("sim-mm") == 200
    assert all(ex.order(oid) is None for oid in requoted)  # a day of requotes must not pile up

    filled = ex.place_liquidity(MARKET.up_token_id, "SELL", Decimal("0.60"), Decimal(10))
    ours = OrderRequest(
        "0x" + "ee" * 32,
        ACCOUNTS[0],
        MARKET.up_token_id,
        "BUY",
        Decimal("0.60"),
        Decimal(10),
        "GTC",
        api_key="k",
        maker_address=ACCOUNTS[0],
    )
    result = ex.submit(ours)
    assert result.trades and ex.order(filled) is None
    assert ex.order(ours.order_id) is not None
    assert [t.id for t in ex.trades_of(ACCOUNTS[0])] == [t.id for t in result.trades]
