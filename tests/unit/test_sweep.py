"""core.sweep: grid expansion, backtest trades settled from the decision's book, sweep figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.enums import OrderType, Outcome, Side, TradingMode
from core.fees import FeeSchedule
from core.fills import FillOutcome
from core.ids import ClientOrderId, TokenId, WindowId
from core.models import DecisionContext, Level, OrderIntent, Signal
from core.sweep import (
    MAX_GRID,
    BacktestTrade,
    expand_grid,
    params_label,
    settle_intent,
    sweep_metrics,
    wilson_interval,
)

T0 = datetime(2026, 9, 28, 11, tzinfo=UTC)
D = Decimal
FEES = FeeSchedule(D("0.07"))


def _intent(price: str, size: str, asks: tuple[Level, ...], outcome: Outcome = Outcome.UP) -> OrderIntent:
    signal = Signal(
        signal_id="s1",
        window_id=WindowId("btc-updown-15m-1"),
        strategy="canary",
        token_id=TokenId("1"),
        outcome=outcome,
        side=Side.BUY,
        limit_price=D(price),
        notional_usd=D(1),
        event_ts=T0,
    )
    book = {"up_asks": asks} if outcome is Outcome.UP else {"down_asks": asks}
    ctx = DecisionContext(signal=signal, risk_result="approved", controls_version=1, event_ts=T0, **book)
    return OrderIntent(
        client_order_id=ClientOrderId("c" * 10),
        signal_id="s1",
        window_id=WindowId("btc-updown-15m-1"),
        strategy="canary",
        token_id=TokenId("1"),
        side=Side.BUY,
        order_type=OrderType.FAK,
        limit_price=D(price),
        size=D(size),
        mode=TradingMode.BACKTEST,
        event_ts=T0,
        context=ctx,
    )


def test_a_grid_expands_in_sorted_key_order_with_fixed_values_kept() -> None:
    grid = {"seconds_before_close": [60, 120], "notional_usd": [D(2), D(3)], "fixed": "x"}
    assert expand_grid(grid) == [
        {"fixed": "x", "notional_usd": D(2), "seconds_before_close": 60},
        {"fixed": "x", "notional_usd": D(2), "seconds_before_close": 120},
        {"fixed": "x", "notional_usd": D(3), "seconds_before_close": 60},
        {"fixed": "x", "notional_usd": D(3), "seconds_before_close": 120},
    ]
    assert expand_grid({}) == [{}]


@pytest.mark.parametrize(
    ("grid", "why"),
    [
        ({"a": []}, "no values"),
        ({"a": [1, 1]}, "repeats"),
        ({"a": list(range(MAX_GRID)), "b": [1, 2]}, "more than"),
    ],
)
def test_a_bad_grid_is_refused_naming_the_problem(grid: dict[str, object], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        expand_grid(grid)


@given(
    st.dictionaries(st.sampled_from("abcd"), st.lists(st.integers(0, 9), min_size=1, max_size=3, unique=True))
)
def test_the_grid_has_one_set_per_combination_each_once(grid: dict[str, list[int]]) -> None:
    sets = expand_grid(grid)
    expected = 1
    for values in grid.values():
        expected *= len(values)
    assert len(sets) == expected == len({params_label(p) for p in sets})


def test_a_won_trade_pays_its_shares_less_cost_and_fee() -> None:
    intent = _intent("0.60", "2", (Level(price=D("0.60"), size=D(100)),))
    trade = settle_intent(intent, Outcome.UP, T0 + timedelta(minutes=5), FEES)
    assert (trade.fill, trade.filled_size, trade.cost_usd) == (FillOutcome.FILLED, D(2), D("1.2"))
    assert trade.pnl_usd == D(2) - D("1.2") - trade.fee_usd and trade.fee_usd > 0


def test_a_lost_trade_loses_its_cost_and_fee_and_an_unresolved_one_has_no_pnl() -> None:
    intent = _intent("0.60", "2", (Level(price=D("0.60"), size=D(100)),))
    assert settle_intent(intent, Outcome.DOWN, T0, FEES).pnl_usd == -(
        D("1.2") + settle_intent(intent, None, None, FEES).fee_usd
    )
    assert settle_intent(intent, None, None, FEES).pnl_usd is None


def test_an_intent_size_the_venue_refuses_is_raised_to_the_smallest_accepted_one() -> None:
    intent = _intent("0.60", "1.67", (Level(price=D("0.60"), size=D(100)),))  # 1.002 USD: refused as is
    assert settle_intent(intent, Outcome.UP, T0, FEES).filled_size == D("1.7")


def test_an_accepted_size_beyond_the_position_cap_is_not_taken() -> None:
    intent = _intent(
        "0.999", "1.01", (Level(price=D("0.999"), size=D(100)),)
    )  # only 10 shares (9.99 USD) pass
    trade = settle_intent(intent, Outcome.UP, T0, FEES)
    assert (trade.fill, trade.filled_size, trade.pnl_usd) == (FillOutcome.REJECTED, D(0), D(0))


def test_a_trade_takes_only_the_captured_depth_at_or_under_its_limit() -> None:
    asks = (Level(price=D("0.50"), size=D(1)), Level(price=D("0.70"), size=D(100)))
    trade = settle_intent(_intent("0.60", "3", asks), Outcome.UP, T0, FEES)
    assert (trade.fill, trade.filled_size, trade.cost_usd) == (FillOutcome.PARTIAL, D(1), D("0.5"))


def test_wilson_vectors() -> None:
    assert wilson_interval(0, 0) is None
    assert wilson_interval(5, 10) == (D("0.2366"), D("0.7634"))
    assert wilson_interval(10, 10) == (D("0.7225"), D(1))
    assert wilson_interval(0, 10) == (D(0), D("0.2775"))


@given(st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_the_wilson_interval_holds_the_observed_rate(case: tuple[int, int]) -> None:
    wins, n = case
    interval = wilson_interval(wins, n)
    assert interval is not None
    low, high = interval
    rate = D(wins) / D(n)
    assert D(0) <= low <= rate.quantize(D("0.0001")) + D("0.0001") and rate - D("0.0001") <= high <= D(1)


def _trade(window: str, pnl: str | None, minutes: int, filled: str = "1") -> BacktestTrade:
    at = T0 + timedelta(minutes=minutes)
    return BacktestTrade(
        window_id=window,
        strategy="canary",
        outcome=Outcome.UP,
        event_ts=at,
        filled_size=D(filled),
        cost_usd=D("0.5"),
        fee_usd=D("0.01"),
        fill=FillOutcome.FILLED,
        winner=Outcome.UP if pnl is not None else None,
        settled_at=at if pnl is not None else None,
        pnl_usd=None if pnl is None else D(pnl),
    )


def test_the_figures_count_settled_filled_trades_in_settlement_order() -> None:
    trades = [
        _trade("w2", "-1", 30),
        _trade("w1", "2", 15),
        _trade("w3", None, 45),
        _trade("w4", "0", 60, "0"),
    ]
    m = sweep_metrics(trades)
    assert (m.trades, m.wins, m.win_rate, m.pnl_usd, m.fees_usd) == (2, 1, D("0.5000"), D(1), D("0.02"))
    assert (m.max_drawdown_usd, m.unsettled) == (D(1), 1)
    assert (m.ci_low, m.ci_high) == wilson_interval(1, 2)


@given(st.permutations([_trade(f"w{i}", str(p), i) for i, p in enumerate([1, -2, 3, -1, 0])]))
def test_the_figures_do_not_depend_on_the_order_trades_arrive_in(trades: list[BacktestTrade]) -> None:
    assert sweep_metrics(trades) == sweep_metrics(sorted(trades, key=lambda t: t.window_id))
