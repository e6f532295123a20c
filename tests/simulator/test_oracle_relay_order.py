"""The synthetic oracle relays each stream in observation order, as the recorded venue does (the
fixture day's Chainlink prints, in receive order, go back in time 15 times in 84,558): a relay delay
varies, but a print is never published before the print observed a second earlier on its stream.
(Independent delays per print published 7% of the TWAP prints out of order, 3.5% of all RTDS ticks.)"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.oracle import SyntheticSource

START_S = 1_780_000_000


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), step_ms=st.sampled_from([50, 1000, 3000, 60_000]))
def test_every_stream_is_published_in_observation_order(seed: int, step_ms: int) -> None:
    source = SyntheticSource(["btc", "eth"], seed, START_S)
    newest: dict[tuple[str, str], int] = {}
    published = 0
    for publish_ms in range(START_S * 1000, (START_S + 600) * 1000, step_ms):
        for point in source.until(publish_ms):
            key = (point.topic, point.symbol)
            assert point.ts_ms >= newest.get(key, 0), f"{key}: {point.ts_ms} after {newest[key]}"
            newest[key] = point.ts_ms
            published += 1
    assert published > 2000
