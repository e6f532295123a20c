"""Gamma discovery and RTDS against the simulator's synthetic scenario on a loopback port, with
real Kafka: windows of the configured assets and intervals are emitted with tokens the CLOB knows,
and Chainlink spot and TWAP ticks reach md.oracle."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from connectors.kafka import EventProducer
from connectors.polymarket.gamma import WindowDiscovery, venue_clock
from connectors.rtds import RtdsChannel
from connectors.ws_runner import RunnerConfig, WsRunner
from core.enums import OracleStream, WindowPhase
from core.models import OracleTick, WindowEvent
from infra import stack
from tests.integration.feeds_harness import TopicTail, on_thread, synthetic_venue, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.timeout(60)]


@pytest.fixture
def venue() -> Iterator[str]:
    with synthetic_venue() as running:
        yield running.address


def test_discovery_emits_windows_whose_tokens_the_clob_knows(venue: str, endpoints: stack.Endpoints) -> None:
    import asyncio

    tail = TopicTail(endpoints.kafka_bootstrap, endpoints.kafka_embedded, "md.windows")
    producer = EventProducer(endpoints.kafka_bootstrap)
    seen: list[WindowEvent] = []

    async def discover() -> tuple[list[WindowEvent], list[WindowEvent], float]:
        async with (
            httpx.AsyncClient(base_url=f"http://{venue}/gamma") as gamma,
            httpx.AsyncClient(base_url=f"http://{venue}") as clob,
        ):
            now = lambda: datetime.now(UTC)  # noqa: E731
            discovery = WindowDiscovery(gamma, clob, producer, ["btc", "eth"], [300, 900], now, seen.append)
            first = await discovery.poll()
            again = await discovery.poll()
            offset = (await venue_clock(clob, now)).offset_ms
            return first, again, offset

    first, again, offset = asyncio.run(discover())
    producer.flush()
    assert {(w.asset, w.interval_s) for w in first} == {
        ("btc", 300),
        ("btc", 900),
        ("eth", 300),
        ("eth", 900),
    }
    assert again == [] and seen == first
    assert any(w.phase is WindowPhase.OPEN for w in first)
    assert abs(offset) < 1500  # /time has 1 s resolution; the simulator runs on the wall clock
    ids = {w.condition_id for w in first}
    got = tail.read(
        lambda e: isinstance(e, WindowEvent) and e.condition_id in ids, lambda ev: len(ev) >= len(first), 10
    )
    tail.close()
    assert sorted(e.window_id for e in got) == sorted(w.window_id for w in first)


def test_rtds_chainlink_spot_and_twap_ticks_reach_md_oracle(venue: str, endpoints: stack.Endpoints) -> None:
    tail = TopicTail(endpoints.kafka_bootstrap, endpoints.kafka_embedded, "md.oracle")
    producer = EventProducer(endpoints.kafka_bootstrap)
    box: list[WsRunner] = []
    started = datetime.now(UTC)

    async def main() -> None:
        channel = RtdsChannel(f"ws://{venue}/rtds", ["btc"], feed=f"test.rtds.{random.getrandbits(32):08x}")
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
        wait_for(lambda: bool(box) and box[0].counts["events"] > 100, 15, "oracle ticks")
        time.sleep(0.2)
        counts = dict(box[0].counts)
        producer.flush()
    ours = tail.drain(
        lambda e: isinstance(e, OracleTick) and e.recv_ts >= started and e.symbol == "btc/usd", quiet_s=0.5
    )
    tail.close()
    assert {e.stream for e in ours} >= {OracleStream.CHAINLINK_SPOT, OracleStream.CHAINLINK_TWAP_60}
    assert counts.get("quarantined", 0) == 0 and counts.get("reconnects", 0) == 0
