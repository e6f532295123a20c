"""core.strategy_review: the pre-registered expectation, the kill criterion, review flags, pausing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from core.strategy_review import (
    Expectation,
    KillCriterion,
    Registration,
    SettledResult,
    kill_point,
    kill_verdict,
    live_refusal,
    max_drawdown_usd,
    review_windows,
    without_strategy,
)

T0 = datetime(2026, 9, 28, tzinfo=UTC)
D = Decimal


def _results(*pnls: str) -> list[SettledResult]:
    return [SettledResult(f"w{i}", T0 + timedelta(minutes=15 * i), D(p)) for i, p in enumerate(pnls)]


pnl_lists = st.lists(
    st.decimals(min_value=D("-5"), max_value=D("5"), places=2, allow_nan=False, allow_infinity=False),
    max_size=40,
)


def test_a_kill_criterion_needs_a_limit() -> None:
    with pytest.raises(ValidationError, match="needs min_win_rate"):
        KillCriterion(min_windows=5)


def test_an_expectation_refuses_an_inverted_win_rate_range() -> None:
    with pytest.raises(ValidationError, match="win_rate_low"):
        Expectation(win_rate_low=D("0.7"), win_rate_high=D("0.6"), kill=KillCriterion(max_loss_usd=D(5)))


def test_a_registration_needs_an_instrument_scope() -> None:
    with pytest.raises(ValidationError):
        Registration(strategy="canary", instruments=())


def test_the_win_rate_is_judged_only_after_enough_windows() -> None:
    rule = KillCriterion(min_windows=3, min_win_rate=D("0.5"))
    assert kill_verdict(_results("-1", "-1"), rule) is None
    assert "win rate 0/3" in (kill_verdict(_results("-1", "-1", "-1"), rule) or "")
    assert kill_verdict(_results("-1", "1", "1"), rule) is None


def test_the_loss_limit_counts_from_the_first_window() -> None:
    rule = KillCriterion(min_windows=50, max_loss_usd=D("1"))
    assert kill_verdict(_results("-0.99"), rule) is None
    assert "loss limit" in (kill_verdict(_results("-1.00"), rule) or "")


def test_the_drawdown_limit_is_from_the_peak() -> None:
    rule = KillCriterion(max_drawdown_usd=D("2"))
    assert kill_verdict(_results("3", "-1.5"), rule) is None
    assert "drawdown 2" in (kill_verdict(_results("3", "-1.5", "-0.5"), rule) or "")


def test_the_kill_point_is_the_first_window_after_which_the_criterion_holds() -> None:
    rule = KillCriterion(min_windows=1, max_loss_usd=D("1"))
    assert kill_point(_results("0.5", "-1", "-0.6", "2"), rule) == (
        3,
        "net P&L -1.1 USD reached the loss limit 1 USD",
    )
    assert kill_point(_results("0.5", "0.5"), rule) is None


@given(pnl_lists)
def test_the_kill_point_is_where_the_runtime_check_after_each_window_first_fires(pnls: list[Decimal]) -> None:
    rule = KillCriterion(min_windows=3, min_win_rate=D("0.4"), max_loss_usd=D("6"), max_drawdown_usd=D("7"))
    results = _results(*(str(p) for p in pnls))
    fired = [n for n in range(1, len(results) + 1) if kill_verdict(results[:n], rule) is not None]
    found = kill_point(results, rule)
    assert (found[0] if found else None) == (fired[0] if fired else None)


@given(pnl_lists)
def test_the_drawdown_is_never_negative_and_never_beyond_the_sum_of_losses(pnls: list[Decimal]) -> None:
    drawdown = max_drawdown_usd(pnls)
    assert D(0) <= drawdown <= -sum((p for p in pnls if p < 0), D(0))


def test_the_first_ten_windows_are_flagged_in_opening_order_once_each() -> None:
    opened = [(f"w{i:02}", T0 + timedelta(minutes=i)) for i in range(14)]
    opened.append(("w03", T0 + timedelta(hours=2)))  # a second position in a flagged window
    opened.reverse()
    assert review_windows(opened) == [f"w{i:02}" for i in range(10)]
    assert review_windows(opened[:0]) == []


def test_pausing_takes_the_strategy_out_of_the_allow_list_once() -> None:
    assert without_strategy(frozenset({"canary", "oracle_momentum"}), "canary") == frozenset(
        {"oracle_momentum"}
    )
    assert without_strategy(frozenset({"oracle_momentum"}), "canary") is None


def test_live_needs_a_registration_with_an_expectation_and_the_same_parameters() -> None:
    assert "not registered" in (live_refusal("canary", {}, None, False) or "")
    assert "no pre-registered expectation" in (live_refusal("canary", {}, {}, False) or "")
    assert live_refusal("canary", {"notional_usd": "2"}, {"notional_usd": 2}, True) is None
    assert "registered" in (live_refusal("canary", {"notional_usd": "3"}, {"notional_usd": 2}, True) or "")
