"""Strikes: ours from the rule's start print (or the hourly candle's open) as soon as it arrives,
the venue's `priceToBeat` compared with it, and a discrepancy when they differ."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.enums import OracleStream, Severity, WindowPhase
from core.models import Candle, OracleTick, WindowEvent
from core.window_integrity import (
    CandleHistory,
    OracleHistory,
    StrikeWatch,
    check_strike,
    discrepancy_alert,
    our_strike,
    strikes_agree,
)

START = datetime(2026, 6, 8, 8, 0, tzinfo=UTC)


def window(rule: str = "CHAINLINK_TWAP(60)", interval_s: int = 300, n: int = 0) -> WindowEvent:
    return WindowEvent(
        source_ts=START,
        recv_ts=START,
        phase=WindowPhase.OPEN,
        window_id=f"btc-updown-5m-{1780905600 + 300 * n}",
        asset="btc",
        interval_s=interval_s,
        condition_id="0x" + "f4" * 32,
        up_token_id="1",
        down_token_id="2",
        start_ts=START,
        end_ts=START + timedelta(seconds=interval_s),
        settlement_rule=rule,
    )


def tick(at: datetime, price: str, stream: OracleStream = OracleStream.CHAINLINK_TWAP_60) -> OracleTick:
    return OracleTick(
        source_ts=at, recv_ts=at, source_id=f"x{at}", symbol="btc/usd", stream=stream, price=Decimal(price)
    )


def kline(open_: str, close: str, closed: bool, at: datetime = START) -> Candle:
    return Candle(
        source_ts=at,
        recv_ts=at,
        source_id=f"k{at}{closed}",
        symbol="btcusdt",
        venue="binance",
        interval_s=3600,
        open_ts=START,
        open=Decimal(open_),
        high=Decimal(open_),
        low=Decimal(open_),
        close=Decimal(close),
        closed=closed,
    )


def test_the_start_print_of_the_rules_stream_is_our_strike_as_soon_as_it_arrives() -> None:
    history, candles, watch = OracleHistory(), CandleHistory(), StrikeWatch()
    w = window()
    watch.watch(w)
    history.add(tick(START - timedelta(seconds=1), "99"))
    assert watch.due_oracle(tick(START - timedelta(seconds=1), "99")) == []
    spot = tick(START, "50", OracleStream.CHAINLINK_SPOT)  # another stream: not this rule's
    history.add(spot)
    assert watch.due_oracle(spot) == []
    assert our_strike(w, history, candles) is None
    start = tick(START, "100.5")
    history.add(start)
    assert watch.due_oracle(start) == [w]
    assert our_strike(w, history, candles) == Decimal("100.5")


def test_the_hourly_strike_is_the_candle_open_and_its_close_decides() -> None:
    history, candles, watch = OracleHistory(), CandleHistory(), StrikeWatch()
    w = window("BINANCE_1H_CANDLE", 3600)
    watch.watch(w)
    running = kline("100", "90", closed=False)
    candles.add(running)
    assert watch.due_candle(running) == [w]
    assert our_strike(w, history, candles) == Decimal(100)
    final = kline("100", "101", closed=True, at=START + timedelta(hours=1))
    candles.add(final)
    assert candles.get("btcusdt", 3600, START) is not None and our_strike(w, history, candles) == Decimal(100)


def test_a_late_running_update_never_reopens_a_closed_candle() -> None:
    candles = CandleHistory()
    candles.add(kline("100", "101", closed=True))
    candles.add(kline("100", "95", closed=False))
    got = candles.get("btcusdt", 3600, START)
    assert got is not None and got.closed and got.close == Decimal(101)


def test_watch_forgets_a_window_and_drops_empty_keys() -> None:
    watch = StrikeWatch()
    for n in range(3):
        watch.watch(window(n=n))
    watch.watch(window("NOT_A_RULE", n=9))  # nothing to wait for
    assert watch.watching == 3
    for n in range(3):
        watch.forget(f"btc-updown-5m-{1780905600 + 300 * n}")
    watch.forget("never-watched")
    assert watch.watching == 0
    assert watch.due_oracle(tick(START, "1")) == []


def test_a_strike_is_noted_once_until_it_changes_and_forgotten_with_its_window() -> None:
    watch = StrikeWatch()
    w = window("BINANCE_1H_CANDLE", 3600)
    assert not watch.changed(w.window_id, Decimal(100))  # not watched: nothing to note
    watch.watch(w)
    assert watch.changed(w.window_id, Decimal(100))
    assert not watch.changed(w.window_id, Decimal(100))  # the next update of the same candle
    assert watch.changed(w.window_id, Decimal("100.5"))  # a correction
    watch.forget(w.window_id)
    watch.watch(w)
    assert watch.changed(w.window_id, Decimal("100.5"))


def test_watch_expires_windows_that_ended_long_ago_without_a_resolution() -> None:
    watch = StrikeWatch()
    watch.watch(window(n=0))
    watch.watch(window(n=1).model_copy(update={"end_ts": START + timedelta(hours=3)}))
    assert watch.expire(START + timedelta(minutes=30)) == []
    assert watch.expire(START + timedelta(hours=2)) == [window(n=0).window_id]
    assert watch.watching == 1


def test_candle_history_keeps_a_bounded_horizon() -> None:
    candles = CandleHistory(keep=timedelta(hours=3))
    for h in range(100):
        c = kline("1", "2", True).model_copy(update={"open_ts": START + timedelta(hours=h)})
        candles.add(c)
    assert candles.size <= 5
    assert candles.get("btcusdt", 3600, START) is None


def test_strikes_that_agree_to_the_venues_precision_raise_nothing() -> None:
    assert strikes_agree(Decimal("118543.438529131234"), Decimal("118543.43852913123"))
    # a Chainlink value sent as a double: 17 digits printed, the double itself 3.6e-12 away
    assert strikes_agree(Decimal("63868.463773581477283333"), Decimal("63868.463773581476"))
    assert strikes_agree(Decimal("63868.463773581477283333"), Decimal(float("63868.463773581477283333")))
    assert not strikes_agree(Decimal("63868.463773581477283333"), Decimal("63868.46377356"))
    assert strikes_agree(Decimal("100.004"), Decimal("100.00"))
    assert not strikes_agree(Decimal("100.02"), Decimal("100.00"))
    assert check_strike(Decimal("100.5"), Decimal("100.5")) is None


def test_strikes_that_differ_are_a_critical_discrepancy() -> None:
    found = check_strike(Decimal("100.5"), Decimal("101.5"))
    assert found is not None and found.kind == "strike"
    assert (found.ours, found.venue) == ("100.5", "101.5")
    alert = discrepancy_alert("w0", found, START)
    assert alert.severity is Severity.CRITICAL and alert.alert_kind == "window.strike"


def test_without_our_strike_there_is_nothing_to_compare() -> None:
    assert check_strike(None, Decimal(101)) is None


venue_prices = st.decimals(min_value=Decimal(1), max_value=Decimal(10**6), places=2)


@given(venue_prices, st.decimals(min_value=Decimal("-0.005"), max_value=Decimal("0.005"), places=6))
def test_ours_within_the_venues_last_digit_agrees(venue: Decimal, noise: Decimal) -> None:
    assert strikes_agree(venue + noise, venue)


@given(venue_prices, st.decimals(min_value=Decimal("0.011"), max_value=Decimal(1000), places=3))
def test_ours_off_by_more_than_the_venues_last_digit_disagrees(venue: Decimal, off: Decimal) -> None:
    assert not strikes_agree(venue + off, venue) and not strikes_agree(venue - off, venue)
