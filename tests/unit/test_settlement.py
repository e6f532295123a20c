"""core.settlement: rule derivation from market fields, boundary ticks, ties, corrections, the fixture day."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.settlement import (
    PriceTick,
    RuleKind,
    RuleNotDerivable,
    Settlement,
    SettlementRule,
    Verdict,
    dedupe_ticks,
    derive_rule,
    resolve_window,
    verdict_for,
)
from simulator.fixture_day import RecordedWindow, load_fixture_day

SPOT_DESCRIPTION = (
    'This market will resolve to "Up" if the Bitcoin price at the end of the time range specified in the '
    "title is greater than or equal to the price at the beginning of that range. Otherwise, it will resolve "
    'to "Down".\nThe resolution source for this market is information from Chainlink, specifically the '
    "BTC/USD data stream available at https://data.chain.link/streams/btc-usd."
)
START = datetime(2026, 6, 8, 8, 15, tzinfo=UTC)
END = START + timedelta(minutes=5)
BTC = SettlementRule.chainlink_spot("btc/usd")


def ms(moment: datetime) -> int:
    return int(moment.timestamp()) * 1000


# --- derive_rule -----------------------------------------------------------------------------------


def test_pre_twap_market_names_chainlink_spot() -> None:
    market = {
        "slug": "btc-updown-5m-1780906500",
        "resolutionSource": "https://data.chain.link/streams/btc-usd",
        "description": SPOT_DESCRIPTION,
    }
    assert derive_rule(market) == SettlementRule.chainlink_spot("btc/usd")
    assert derive_rule(market).rtds_topic == "crypto_prices_chainlink"


@pytest.mark.parametrize(
    "lookback, topic", [(30, "crypto_prices_twap_thirty"), (60, "crypto_prices_twap_sixty")]
)
def test_crypto_market_config_twap_wins_over_a_spot_source(lookback: int, topic: str) -> None:
    market = {
        "slug": "eth-updown-5m-1786665600",
        "resolutionSource": "https://data.chain.link/streams/eth-usd",
        "description": SPOT_DESCRIPTION.replace("BTC/USD", "ETH/USD"),
        "cryptoMarketConfig": {
            "id": f"eth-5m-twap-{lookback}",
            "twapEnabled": True,
            "twapLookbackSeconds": lookback,
        },
    }
    rule = derive_rule(market)
    assert rule == SettlementRule.chainlink_twap("eth/usd", lookback)
    assert rule.name == f"CHAINLINK_TWAP({lookback})"
    assert rule.rtds_topic == topic


def test_crypto_market_config_as_json_string_is_read() -> None:
    market = {
        "slug": "sol-updown-15m-1786666500",
        "resolutionSource": "https://data.chain.link/streams/sol-usd-twap-60s-streams",
        "cryptoMarketConfig": json.dumps({"twapEnabled": True, "twapLookbackSeconds": 60}),
    }
    assert derive_rule(market) == SettlementRule.chainlink_twap("sol/usd", 60)


def test_twap_stream_in_resolution_source_alone_names_twap() -> None:
    market = {
        "slug": "xrp-updown-5m-1",
        "resolutionSource": "https://data.chain.link/streams/xrp-usd-twap-30s-streams",
    }
    assert derive_rule(market) == SettlementRule.chainlink_twap("xrp/usd", 30)


def test_twap_disabled_in_config_falls_back_to_the_named_stream() -> None:
    market = {
        "resolutionSource": "https://data.chain.link/streams/btc-usd",
        "cryptoMarketConfig": {"twapEnabled": False},
    }
    assert derive_rule(market).kind is RuleKind.CHAINLINK_SPOT


def test_hourly_binance_candle_market() -> None:
    market = {
        "slug": "bitcoin-up-or-down-june-8-2026-4am-et",
        "resolutionSource": "https://www.binance.com/en/trade/BTC_USDT",
        "description": 'This market will resolve to "Up" if the close price for the Binance 1 hour '
        "candle for BTC/USDT 4AM ET is greater than or equal to the open price.",
    }
    rule = derive_rule(market)
    assert rule == SettlementRule.binance_1h_candle("btcusdt")
    assert rule.rtds_topic == "crypto_prices"


@pytest.mark.parametrize(
    "market",
    [
        {},
        {"slug": "btc-updown-5m-1", "resolutionSource": "https://example.com/oracle"},
        {
            "resolutionSource": "https://data.chain.link/streams/btc-usd",
            "cryptoMarketConfig": {"twapEnabled": True},
        },
        {"slug": "btc-updown-5m-1", "resolutionSource": "https://www.binance.com/en/trade/BTC_USDT"},
    ],
)
def test_markets_that_name_no_usable_rule_are_refused(market: dict[str, object]) -> None:
    with pytest.raises(RuleNotDerivable):
        derive_rule(market)


def test_twap_rule_requires_a_lookback() -> None:
    with pytest.raises(ValueError):
        SettlementRule(RuleKind.CHAINLINK_TWAP, "btc/usd")
    with pytest.raises(ValueError):
        SettlementRule(RuleKind.CHAINLINK_SPOT, "btc/usd", 60)


# --- resolve_window ------------------------------------------------------------------------------


def test_up_when_close_above_strike_and_tie_resolves_up() -> None:
    prices = {ms(START): Decimal("100.5"), ms(END): Decimal("100.5")}
    result = resolve_window(BTC, START, END, prices)
    assert (result.verdict, result.strike, result.close, result.decided) == (
        Verdict.UP,
        Decimal("100.5"),
        Decimal("100.5"),
        True,
    )
    prices[ms(END)] = Decimal("100.499999999999999999")
    assert resolve_window(BTC, START, END, prices).verdict is Verdict.DOWN


def test_missing_close_tick_is_undecidable_with_reason_not_last_tick_before() -> None:
    prices = {ms(START): Decimal(100), ms(END) - 1000: Decimal(200)}
    result = resolve_window(BTC, START, END, prices)
    assert result.verdict is Verdict.UNDECIDABLE
    assert not result.decided
    assert result.close is None and result.strike == Decimal(100)
    assert "close" in result.reason and "2026-06-08T08:20:00Z" in result.reason


def test_missing_start_tick_is_undecidable() -> None:
    result = resolve_window(BTC, START, END, {ms(START) + 1000: Decimal(1), ms(END): Decimal(2)})
    assert result.verdict is Verdict.UNDECIDABLE and "start" in result.reason


def test_binance_candle_closes_on_the_last_second_of_the_hour() -> None:
    rule = SettlementRule.binance_1h_candle("btcusdt")
    start = datetime(2026, 6, 8, 8, tzinfo=UTC)
    end = start + timedelta(hours=1)
    prices = {ms(start): Decimal("10"), ms(end) - 1000: Decimal("9"), ms(end): Decimal("11")}
    assert resolve_window(rule, start, end, prices).verdict is Verdict.DOWN
    with pytest.raises(ValueError):
        resolve_window(rule, start, start + timedelta(minutes=5), prices)


def test_naive_or_sub_second_boundaries_are_refused() -> None:
    with pytest.raises(ValueError):
        resolve_window(BTC, START.replace(tzinfo=None), END, {})
    with pytest.raises(ValueError):
        resolve_window(BTC, START + timedelta(milliseconds=5), END, {})
    with pytest.raises(ValueError):
        resolve_window(BTC, END, START, {})


def test_same_second_duplicate_is_a_correction_the_later_receipt_wins() -> None:
    ticks = [PriceTick(1000, Decimal(2), recv_ms=1900), PriceTick(1000, Decimal(1), recv_ms=1500)]
    assert dedupe_ticks(ticks) == {1000: Decimal(2)}
    assert dedupe_ticks(reversed(ticks)) == {1000: Decimal(2)}


# --- properties ----------------------------------------------------------------------------------

prices_st = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1000000"), places=8, allow_nan=False)


@given(strike=prices_st, close=prices_st)
def test_verdict_is_up_exactly_when_close_reaches_strike(strike: Decimal, close: Decimal) -> None:
    assert (verdict_for(strike, close) is Verdict.UP) == (close >= strike)
    assert verdict_for(strike, strike) is Verdict.UP


@given(strike=prices_st, close=prices_st, bump=prices_st)
def test_raising_the_close_never_turns_up_into_down(strike: Decimal, close: Decimal, bump: Decimal) -> None:
    if verdict_for(strike, close) is Verdict.UP:
        assert verdict_for(strike, close + bump) is Verdict.UP


@given(
    ticks=st.lists(
        st.builds(
            PriceTick,
            ts_ms=st.integers(0, 20).map(lambda s: s * 1000),
            price=prices_st,
            recv_ms=st.integers(0, 10**6),
        ),
        max_size=40,
        unique_by=lambda t: (t.ts_ms, t.recv_ms),
    ),
    seed=st.randoms(use_true_random=False),
)
def test_dedupe_keeps_the_latest_receipt_whatever_the_arrival_order(
    ticks: list[PriceTick], seed: random.Random
) -> None:
    shuffled = list(ticks)
    seed.shuffle(shuffled)
    expected = {
        t.ts_ms: max((u for u in ticks if u.ts_ms == t.ts_ms), key=lambda u: u.recv_ms).price for t in ticks
    }
    assert dedupe_ticks(shuffled) == expected


@given(
    present=st.sets(st.integers(0, 300), max_size=301),
    price=prices_st,
)
def test_a_verdict_is_given_only_when_both_boundary_ticks_exist(present: set[int], price: Decimal) -> None:
    prices = {ms(START) + s * 1000: price for s in present}
    result = resolve_window(BTC, START, END, prices)
    assert result.decided == (0 in present and 300 in present)
    if not result.decided:
        assert result.reason


# --- the recorded fixture day --------------------------------------------------------------------


def test_fixture_day_reproduces_every_outcome_the_rule_can_decide() -> None:

    day = load_fixture_day()
    prices = dedupe_ticks(t.tick for t in day.ticks)
    in_day = [w for w in day.windows_inside_day() if w.strike is not None]
    assert len(in_day) == 283
    decided: list[tuple[RecordedWindow, Settlement]] = []
    undecidable: list[tuple[RecordedWindow, Settlement]] = []
    for window in in_day:
        rule = derive_rule(window.raw)
        assert rule == BTC
        result = resolve_window(rule, window.start, window.end, prices)
        (decided if result.decided else undecidable).append((window, result))
    for window, result in decided:
        assert result.strike == window.strike, window.slug
        assert result.verdict is window.outcome, window.slug
    # Four windows lack the close-second tick in the recording: the rule refuses to guess them.
    assert len(decided) == 279
    assert sorted(w.slug for w, _ in undecidable) == [
        "btc-updown-5m-1780878900",
        "btc-updown-5m-1780930200",
        "btc-updown-5m-1780946400",
        "btc-updown-5m-1780958400",
    ]
    assert all("close" in r.reason for _, r in undecidable)


def test_every_recorded_strike_is_the_tick_at_the_start_second() -> None:

    day = load_fixture_day()
    prices = dedupe_ticks(t.tick for t in day.ticks)
    with_tick = [w for w in day.windows if ms(w.start) in prices]
    assert len(with_tick) == 284
    assert all(prices[ms(w.start)] == w.strike for w in with_tick)
