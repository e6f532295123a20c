"""Hourly windows settle on the exchange's 1-hour candle: strike = open, Up iff close >= open, and
only a closed candle decides (POLYMARKET.md §3)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.settlement import CandlePrint, SettlementRule, Verdict, resolve_candle

HOUR = datetime(2026, 6, 8, 8, 0, tzinfo=UTC)
RULE = SettlementRule.binance_1h_candle("btcusdt")
OPEN_MS = int(HOUR.timestamp()) * 1000


def candle(open_: str, close: str, closed: bool = True, open_ms: int = OPEN_MS) -> CandlePrint:
    return CandlePrint(open_ms, 3600, Decimal(open_), Decimal(close), closed)


def test_a_closed_candle_decides_with_its_open_as_the_strike() -> None:
    up = resolve_candle(RULE, HOUR, HOUR + timedelta(hours=1), candle("100", "100"))
    assert (up.verdict, up.strike, up.close) == (Verdict.UP, Decimal(100), Decimal(100))
    down = resolve_candle(RULE, HOUR, HOUR + timedelta(hours=1), candle("100", "99.99"))
    assert down.verdict is Verdict.DOWN


def test_a_running_candle_gives_the_strike_but_no_verdict() -> None:
    running = resolve_candle(RULE, HOUR, HOUR + timedelta(hours=1), candle("100", "120", closed=False))
    assert running.verdict is Verdict.UNDECIDABLE
    assert running.strike == Decimal(100) and "not closed" in running.reason


def test_a_missing_or_foreign_candle_is_undecidable() -> None:
    assert resolve_candle(RULE, HOUR, HOUR + timedelta(hours=1), None).verdict is Verdict.UNDECIDABLE
    other_hour = candle("1", "2", open_ms=OPEN_MS + 3_600_000)
    assert resolve_candle(RULE, HOUR, HOUR + timedelta(hours=1), other_hour).verdict is Verdict.UNDECIDABLE


def test_only_the_candle_rule_and_an_hour_are_accepted() -> None:
    with pytest.raises(ValueError):
        resolve_candle(RULE, HOUR, HOUR + timedelta(minutes=5), candle("1", "2"))
    with pytest.raises(ValueError):
        resolve_candle(SettlementRule.chainlink_spot("btc/usd"), HOUR, HOUR + timedelta(hours=1), None)


prices = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10**6), places=4)


@given(prices, prices)
def test_up_exactly_when_the_close_reaches_the_open(open_: Decimal, close: Decimal) -> None:
    got = resolve_candle(RULE, HOUR, HOUR + timedelta(hours=1), candle(str(open_), str(close)))
    assert got.decided and (got.verdict is Verdict.UP) == (close >= open_)
