"""The health verdict: each problem is named; nothing wrong is an empty list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.breaker import Breaker
from core.enums import BreakerState
from core.health import FeedAge, PoolUse, evaluate

NOW = datetime(2031, 5, 1, tzinfo=UTC)
FRESH = FeedAge("market", NOW - timedelta(seconds=5), Decimal(300))


def test_nothing_wrong_is_healthy() -> None:
    assert evaluate(NOW, Breaker(), {"pnl_match": True}, [FRESH], PoolUse(1, 10), {"clob": Decimal(40)}) == []


def test_each_problem_is_named() -> None:
    problems = evaluate(
        NOW,
        Breaker(BreakerState.OPEN, "balance_match", "ours 1 venue 2", NOW),
        {"balance_match": False, "pnl_match": True},
        [FeedAge("rtds", NOW - timedelta(minutes=5), None), FeedAge("market", NOW, Decimal(90_000))],
        PoolUse(9, 10),
        {"clob": Decimal(-1500)},
    )
    text = "\n".join(problems)
    assert "breaker OPEN: balance_match" in text and "assertion balance_match failing" in text
    assert "pnl_match" not in text
    assert "feed rtds silent" in text and "feed market stale" in text
    assert "pool 9/10" in text and "clock clob off by -1500" in text
    assert len(problems) == 6


def test_pool_use_at_the_threshold_is_still_healthy() -> None:
    assert evaluate(NOW, Breaker(), {}, [], PoolUse(8, 10), {}) == []
