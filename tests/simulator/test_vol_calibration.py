"""The synthetic price path's volatility is the fixture day's, measured on its real Chainlink prints."""

from __future__ import annotations

from decimal import Decimal

import pytest

from simulator.fixture_day import load_fixture_day
from simulator.oracle import ASSET_MODELS, CHAINLINK, SyntheticSource
from simulator.vol_calibration import vol_per_s


def fixture_prices() -> dict[int, Decimal]:
    """Per second, the last correction of the recorded BTC/USD Chainlink print."""
    prices: dict[int, Decimal] = {}
    for tick in sorted(load_fixture_day().ticks, key=lambda t: (t.tick.ts_ms, t.server_ts_ms)):
        prices[tick.tick.ts_ms // 1000] = tick.tick.price
    return prices


def test_btc_volatilities_are_the_fixture_days() -> None:
    prices = fixture_prices()
    btc = ASSET_MODELS["btc"]
    assert vol_per_s(prices, 300) == pytest.approx(btc.vol_per_s, rel=0.01)
    assert vol_per_s(prices, 1) == pytest.approx(btc.quote_vol_per_s, rel=0.01)


@pytest.mark.parametrize("asset", ["btc", "eth"])
def test_the_synthetic_path_realizes_its_calibrated_window_scale_volatility(asset: str) -> None:
    source = SyntheticSource([asset], seed=11, start_s=1_788_000_000)
    prices = {
        p.ts_ms // 1000: p.price
        for p in source.until((1_788_000_000 + 24 * 3600) * 1000)
        if p.topic == CHAINLINK
    }
    assert vol_per_s(prices, 300) == pytest.approx(ASSET_MODELS[asset].vol_per_s, rel=0.12)


def test_horizon_and_empty_series_are_refused() -> None:
    with pytest.raises(ValueError):
        vol_per_s({}, 300)
    with pytest.raises(ValueError):
        vol_per_s({0: Decimal(1), 1: Decimal(1)}, 0)
