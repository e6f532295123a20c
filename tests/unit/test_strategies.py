"""Strategies: the canary, oracle momentum, typed parameters, and no signal before a window opens."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from core.enums import Outcome, Side, WindowPhase
from core.strategies import REGISTRY, build_strategy, evaluate_guarded
from core.window_state import WindowState
from tests.trading_builders import DOWN, START, UP, book, oracle, window

END = START + timedelta(seconds=300)


def _state(up: tuple[str, str] = ("0.60", "0.62"), down: tuple[str, str] = ("0.38", "0.40")) -> WindowState:
    state = WindowState(window())
    state.apply_book(book(UP, START, *up))
    state.apply_book(book(DOWN, START, *down))
    return state


def test_canary_waits_for_t_minus_60_then_buys_the_favoured_side_at_its_ask_once() -> None:
    canary = build_strategy("canary")
    state = _state()
    assert canary.evaluate(state, END - timedelta(seconds=61)) is None
    signal = canary.evaluate(state, END - timedelta(seconds=60))
    assert signal is not None
    assert (signal.outcome, signal.side, signal.token_id) == (Outcome.UP, Side.BUY, UP)
    assert signal.limit_price == Decimal("0.62") and signal.notional_usd == Decimal(1)
    state.record_signal("canary")
    assert canary.evaluate(state, END - timedelta(seconds=59)) is None


@given(ask_cents=st.integers(min_value=1, max_value=98), ticks=st.integers(min_value=0, max_value=10))
def test_canary_limit_is_the_ask_plus_its_slippage_ticks_on_the_tick_and_below_one(
    ask_cents: int, ticks: int
) -> None:
    ask = Decimal(ask_cents) / 100
    bid = ask - Decimal("0.01")
    state = _state((f"{bid}", f"{ask}"), (f"{1 - ask - Decimal('0.01')}", f"{1 - bid}"))
    canary = build_strategy("canary", {"slippage_ticks": ticks})
    signal = canary.evaluate(state, END - timedelta(seconds=30))
    if signal is None:  # even odds, or the favoured side is the other one
        return
    seen = state.best_ask(signal.outcome)
    assert seen is not None
    assert signal.limit_price == max(seen, min(seen + ticks * Decimal("0.01"), Decimal("0.99")))
    assert signal.limit_price % Decimal("0.01") == 0 and signal.limit_price < 1


def test_canary_buys_down_when_the_clob_favours_down_and_abstains_at_even_odds() -> None:
    canary = build_strategy("canary")
    signal = canary.evaluate(_state(("0.30", "0.32"), ("0.68", "0.70")), END - timedelta(seconds=30))
    assert signal is not None and signal.outcome is Outcome.DOWN and signal.limit_price == Decimal("0.70")
    assert canary.evaluate(_state(("0.49", "0.51"), ("0.49", "0.51")), END - timedelta(seconds=30)) is None


def test_oracle_momentum_buys_the_side_the_oracle_points_to_against_the_strike() -> None:
    momentum = build_strategy("oracle_momentum", {"min_edge_bps": "10", "max_price": "0.80"})
    state = _state(("0.60", "0.62"), ("0.38", "0.40"))
    state.apply_oracle(oracle(START, "100000"))
    now = END - timedelta(seconds=60)
    state.apply_oracle(oracle(now, "100050"))  # 5 bps: not enough
    assert momentum.evaluate(state, now) is None
    state.apply_oracle(oracle(now, "99880"))  # -12 bps: Down
    signal = momentum.evaluate(state, now)
    assert signal is not None and signal.outcome is Outcome.DOWN and signal.limit_price == Decimal("0.40")


def test_oracle_momentum_does_not_chase_an_expensive_ask_or_trade_outside_its_span() -> None:
    momentum = build_strategy("oracle_momentum", {"max_price": "0.60"})
    state = _state()
    state.apply_oracle(oracle(START, "100000"))
    state.apply_oracle(oracle(END - timedelta(seconds=60), "100500"))
    assert momentum.evaluate(state, END - timedelta(seconds=60)) is None  # Up ask 0.62 > 0.60
    assert build_strategy("oracle_momentum").evaluate(state, END - timedelta(seconds=200)) is None


def test_parameters_are_typed_and_validated() -> None:
    with pytest.raises(ValidationError):
        build_strategy("oracle_momentum", {"max_price": "1.5"})
    with pytest.raises(ValidationError):
        build_strategy("canary", {"notional": "1"})
    with pytest.raises(ValidationError):
        build_strategy("oracle_momentum", {"enter_from_s": 10, "enter_until_s": 20})
    with pytest.raises(KeyError):
        build_strategy("nope")


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(sorted(REGISTRY)),
    before_ms=st.integers(min_value=1, max_value=3_600_000),
    ref=st.integers(min_value=90_000, max_value=110_000),
    up_ask=st.integers(min_value=1, max_value=99),
    phase=st.sampled_from([WindowPhase.DISCOVERED, WindowPhase.OPEN]),
)
def test_no_strategy_signals_for_a_window_that_has_not_opened(name, before_ms, ref, up_ask, phase) -> None:
    """Whatever the books and prices, before the start no registered strategy yields a signal,
    even a window whose start is only seconds away or whose feed already says OPEN."""
    strategy = build_strategy(name, {"enter_from_s": 3_700} if name == "oracle_momentum" else {})
    state = WindowState(window(phase, start=START))
    ask = Decimal(up_ask) / 100
    state.apply_book(book(UP, START, str(ask - Decimal("0.01")), str(ask)))
    state.apply_book(book(DOWN, START, str(1 - ask - Decimal("0.01")), str(1 - ask)))
    state.apply_oracle(oracle(START, "100000"))
    state.apply_oracle(oracle(START + timedelta(seconds=1), str(ref)))
    now = START - timedelta(milliseconds=before_ms)
    assert evaluate_guarded(strategy, state, now) is None
    assert strategy.evaluate(state, now) is None
