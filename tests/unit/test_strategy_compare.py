"""core.strategy_compare: live windows beside their backtest, and the live win rate against the
backtest's interval."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from core.enums import Outcome
from core.fills import FillOutcome
from core.strategy_compare import LiveTrade, compare
from core.sweep import BacktestTrade

T0 = datetime(2026, 9, 28, tzinfo=UTC)
D = Decimal


def _bt(window: str, outcome: Outcome, pnl: str, size: str = "2", cost: str = "1.2") -> BacktestTrade:
    return BacktestTrade(
        window, "canary", outcome, T0, D(size), D(cost), D("0.01"), FillOutcome.FILLED, Outcome.UP, T0, D(pnl)
    )


def test_each_live_window_is_set_beside_the_backtest_of_the_same_window() -> None:
    live = [
        LiveTrade("w1", Outcome.UP, D("0.62"), D("1.24"), D("0.7")),
        LiveTrade("w2", Outcome.DOWN, D("0.5"), D("1"), D("-1")),
        LiveTrade("w3", Outcome.UP, D("0.5"), D("1"), None),  # still open
    ]
    backtest = [_bt("w1", Outcome.UP, "0.8"), _bt("w2", Outcome.UP, "0.8"), _bt("w9", Outcome.UP, "0.8")]
    result = compare(live, backtest)
    assert [r.window_id for r in result.rows] == ["w1", "w2", "w3"]
    w1, w2, w3 = result.rows
    assert w1.same_decision and w1.entry_diff == D("0.02") and w1.live.size == D(2)
    assert not w2.same_decision and w2.entry_diff is None
    assert w3.backtest is None and not w3.same_decision and w3.live.pnl_usd is None
    s = result.summary
    assert (
        s.windows,
        s.same_decisions,
        s.live_settled,
        s.live_wins,
        s.backtest_settled,
        s.backtest_wins,
    ) == (
        3,
        1,
        2,
        1,
        2,
        2,
    )
    assert s.live_pnl_usd == D("-0.3") and s.backtest_pnl_usd == D("1.6")
    assert (s.ci_low, s.ci_high, s.live_outside) == (D("0.3424"), D("1.0000"), False)  # 1/2 live: inside


def test_a_live_win_rate_under_the_backtest_interval_is_outside() -> None:
    live = [LiveTrade(w, Outcome.UP, D("0.5"), D("1"), D("-1")) for w in ("w1", "w2")]
    result = compare(live, [_bt("w1", Outcome.UP, "0.8"), _bt("w2", Outcome.UP, "0.8")])
    assert result.summary.live_outside is True


def test_nothing_to_judge_without_settled_backtest_windows() -> None:
    result = compare([LiveTrade("w1", Outcome.UP, D("0.5"), D("1"), D("1"))], [])
    assert result.summary.live_outside is None and result.summary.ci_low is None
