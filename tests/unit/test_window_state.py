"""Window state: the strike comes from the window's own rule; books and controls are kept."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from core.enums import OracleStream, Outcome, WindowPhase
from core.models import BookDelta
from core.orderbook import Applied
from core.window_state import CandleOpen, WindowState, instrument_of
from tests.trading_builders import CONDITION, DOWN, START, UP, book, oracle, spot, window


def test_chainlink_strike_is_the_print_at_the_start_second_and_a_correction_replaces_it() -> None:
    state = WindowState(window())
    state.apply_oracle(oracle(START - timedelta(seconds=1), "99"))
    assert state.strike is None
    state.apply_oracle(oracle(START, "100"))
    state.apply_oracle(oracle(START, "100.5"))
    state.apply_oracle(oracle(START + timedelta(seconds=1), "101"))
    assert state.strike == Decimal("100.5")
    assert state.reference_price == Decimal("101")


def test_a_tick_of_another_stream_than_the_rule_reads_is_ignored() -> None:
    state = WindowState(window(rule="CHAINLINK_TWAP(60)"))
    state.apply_oracle(oracle(START, "100"))
    assert state.strike is None and state.reference_price is None
    state.apply_oracle(oracle(START, "100", stream=OracleStream.CHAINLINK_TWAP_60))
    assert state.strike == Decimal("100")


def test_hourly_strike_is_the_open_of_the_candle_starting_at_the_window_start() -> None:
    state = WindowState(window(interval_s=3600, rule="BINANCE_1H_CANDLE"))
    state.apply_oracle(oracle(START, "100"))
    assert state.strike is None
    at = START + timedelta(seconds=5)
    state.apply_candle(CandleOpen("btcusdt", 3600, START - timedelta(hours=1), Decimal(90), Decimal(95), at))
    assert state.strike is None
    state.apply_candle(CandleOpen("btcusdt", 3600, START, Decimal("100.1"), Decimal("100.4"), at))
    state.apply_spot(spot(at + timedelta(seconds=1), "100.7"))
    assert state.strike == Decimal("100.1")
    assert state.reference_price == Decimal("100.7")


def test_the_favoured_side_is_the_one_with_mid_above_one_half() -> None:
    state = WindowState(window())
    assert state.favoured() is None
    state.apply_book(book(UP, START, "0.60", "0.62"))
    state.apply_book(book(DOWN, START, "0.38", "0.40"))
    assert state.favoured() is Outcome.UP
    assert state.best_ask(Outcome.UP) == Decimal("0.62")


def test_the_phase_never_moves_back() -> None:
    state = WindowState(window(WindowPhase.CLOSED))
    state.apply_window(window(WindowPhase.OPEN))
    assert state.phase is WindowPhase.CLOSED
    assert not state.is_open_at(START + timedelta(seconds=10))


def test_instrument_names() -> None:
    assert [instrument_of("btc", s) for s in (300, 900, 3600)] == ["btc-5m", "btc-15m", "btc-1h"]


def test_a_drifted_book_is_not_traded_on_until_the_next_snapshot() -> None:
    state = WindowState(window())
    state.apply_book(book(UP, START, "0.60", "0.62"))
    drift = BookDelta(
        source_ts=START + timedelta(seconds=1),
        recv_ts=START + timedelta(seconds=1),
        token_id=UP,
        condition_id=CONDITION,
        changes=(),
        best_bid=Decimal("0.55"),
    )
    assert state.apply_book(drift) is Applied.DRIFT
    assert state.best_ask(Outcome.UP) is None
    state.apply_book(book(UP, START + timedelta(seconds=2), "0.55", "0.57"))
    assert state.best_ask(Outcome.UP) == Decimal("0.57")
