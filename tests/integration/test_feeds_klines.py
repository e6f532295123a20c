"""The Binance kline connector against the simulator, with real Kafka: on connect the current and
last candles come from REST (the stream sends nothing at connect), then the stream's updates; all
reach md.spot as Candles with the simulator's open."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from connectors.binance_klines import BinanceKlineChannel
from connectors.kafka import EventProducer
from connectors.ws_runner import RunnerConfig, WsRunner
from core.models import Candle
from core.timestamps import to_ms
from infra import stack
from tests.integration.feeds_harness import TopicTail, Venue, on_thread, synthetic_venue, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.timeout(60)]


@pytest.fixture
def venue() -> Iterator[Venue]:
    with synthetic_venue() as running:
        yield running


def test_rest_backfill_then_stream_updates_reach_md_spot(venue: Venue, endpoints: stack.Endpoints) -> None:
    tail = TopicTail(endpoints.kafka_bootstrap, endpoints.kafka_embedded, "md.spot")
    producer = EventProducer(endpoints.kafka_bootstrap)
    feed = f"test.klines.{random.getrandbits(32):08x}"
    box: list[WsRunner] = []
    started = datetime.now(UTC)

    async def main() -> None:
        async with httpx.AsyncClient(base_url=f"http://{venue.address}/binance") as rest:
            channel = BinanceKlineChannel(f"ws://{venue.address}/binance", rest, ["btc", "eth"], feed=feed)
            runner = WsRunner(
                channel,
                producer,
                None,
                RunnerConfig(ping_interval_s=None),
                lambda: datetime.now(UTC),
                random.random,
            )
            box.append(runner)
            await runner.run()

    with on_thread(main):
        wait_for(lambda: bool(box) and box[0].counts["events"] >= 8, 20, "backfill and stream candles")
        counts = dict(box[0].counts)
        producer.flush()
    got = tail.read(
        lambda e: isinstance(e, Candle) and e.recv_ts >= started and e.venue == "binance",
        lambda ev: len(ev) >= 8,
        10,
    )
    tail.close()
    assert counts.get("quarantined", 0) == 0 and counts.get("reconnects", 0) == 0
    assert {c.symbol for c in got} == {"btcusdt", "ethusdt"}
    backfilled = [c for c in got if c.source_ts == c.recv_ts]
    streamed = [c for c in got if c.source_ts != c.recv_ts]
    assert backfilled and streamed and got.index(backfilled[0]) < got.index(streamed[0])
    book = {
        (c.symbol.lower(), c.open_ms): c
        for s in venue.scenario.klines.symbols
        for c in venue.scenario.klines.candles(s)
    }
    for candle in got:
        assert book[(candle.symbol, to_ms(candle.open_ts))].open == candle.open
