"""Helpers for the feed tests: a simulator market of this run's own, a connector on a thread, and a
reader of shared topics from their current end, filtered to this run's tokens or feed name."""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from confluent_kafka import Consumer, TopicPartition

from connectors.kafka import consumer_config, decode_message
from core.topics import topic
from simulator.exchange import Exchange
from simulator.markets import SimMarket
from simulator.scenario import ScenarioSettings, build_scenario
from simulator.server import build_app, load_scenario, quiet_dropped_connections
from simulator.windows import WindowSettings
from tests.simulator.conftest import RunningSim, fast_config


def unique_market() -> SimMarket:
    """A market whose ids no other run uses (topics are shared across runs)."""
    n = random.getrandbits(60)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    return SimMarket(
        condition_id="0x" + uuid.uuid4().hex + uuid.uuid4().hex,
        slug=f"btc-updown-5m-{int(start.timestamp())}",
        question="Bitcoin Up or Down - feed test",
        asset="btc",
        interval_s=300,
        up_token_id=str(10**76 + 2 * n),
        down_token_id=str(10**76 + 2 * n + 1),
        start=start,
        end=start + timedelta(hours=2),
    )


def add_market(sim: RunningSim) -> SimMarket:
    market = unique_market()
    sim.call(sim.exchange.add_market, market)
    return market


@contextmanager
def on_thread(main: Callable[[], Coroutine[Any, Any, None]]) -> Iterator[asyncio.AbstractEventLoop]:
    """Run `main()` on its own event loop in a thread until the block ends, then cancel it."""
    loop = asyncio.new_event_loop()
    task_box: list[asyncio.Task[None]] = []
    errors: list[BaseException] = []

    def serve() -> None:
        asyncio.set_event_loop(loop)
        task = loop.create_task(main())
        task_box.append(task)
        try:
            loop.run_until_complete(task)
        except asyncio.CancelledError:
            pass
        except BaseException as exc:
            errors.append(exc)
        finally:
            loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    while not task_box:
        time.sleep(0.001)
    try:
        yield loop
    finally:
        if not loop.is_closed():
            loop.call_soon_threadsafe(task_box[0].cancel)
        thread.join(timeout=10)
        if errors:
            raise errors[0]


def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


def wait_quiet(count: Callable[[], int], quiet_s: float, timeout_s: float) -> None:
    """Wait until `count()` has not changed for `quiet_s`."""
    deadline = time.monotonic() + timeout_s
    last, since = count(), time.monotonic()
    while time.monotonic() - since < quiet_s:
        if time.monotonic() > deadline:
            raise AssertionError("never went quiet")
        time.sleep(0.05)
        now = count()
        if now != last:
            last, since = now, time.monotonic()


class TopicTail:
    """Reads a topic from the offsets it had when created (partitions assigned, no group join)."""

    def __init__(self, bootstrap: str, embedded: bool, name: str) -> None:
        config = consumer_config(bootstrap, f"feeds-test-{uuid.uuid4().hex[:8]}", embedded=embedded)
        self._consumer = Consumer(config)
        parts = []
        for p in range(topic(name).partitions):
            _low, high = self._consumer.get_watermark_offsets(TopicPartition(name, p), timeout=10)
            parts.append(TopicPartition(name, p, high))
        self._consumer.assign(parts)
        self.events: list[Any] = []

    def read(
        self, keep: Callable[[Any], bool], until: Callable[[list[Any]], bool], timeout_s: float
    ) -> list[Any]:
        """Poll, keeping decoded events that `keep` accepts, until `until(kept)` or raise on timeout."""
        deadline = time.monotonic() + timeout_s
        while not until(self.events):
            if time.monotonic() > deadline:
                raise AssertionError(f"topic read timed out with {len(self.events)} event(s)")
            for msg in self._consumer.consume(1000, timeout=0.2):
                event = decode_message(msg)
                if keep(event):
                    self.events.append(event)
        return self.events

    def drain(self, keep: Callable[[Any], bool], quiet_s: float = 1.0) -> list[Any]:
        """Read until nothing new arrived for `quiet_s`."""
        last = time.monotonic()
        while time.monotonic() - last < quiet_s:
            msgs = self._consumer.consume(1000, timeout=0.2)
            if msgs:
                last = time.monotonic()
            for msg in msgs:
                event = decode_message(msg)
                if keep(event):
                    self.events.append(event)
        return self.events

    def close(self) -> None:
        self._consumer.close()


@dataclass
class Venue:
    """A running simulator with a scenario: `address` is host:port for the feed URLs."""

    address: str
    scenario: Any

    @property
    def port(self) -> int:
        return int(self.address.rsplit(":", 1)[1])


@contextmanager
def synthetic_venue(speed: float = 1.0, assets: tuple[str, ...] | None = None) -> Iterator[Venue]:
    """The simulator's synthetic scenario (Gamma at /gamma, RTDS at /rtds) served on a free port;
    `assets` narrows the scenario's windows and prices (less work on a busy machine)."""
    config = fast_config(seed=random.randrange(10**6))
    if assets is None:
        scenario = load_scenario("synthetic", config, speed)
    else:
        settings = ScenarioSettings(windows=WindowSettings(assets=assets))
        scenario = build_scenario("synthetic", speed, config=config, settings=settings)
    exchange = Exchange(config, scenario.clock)
    app = build_app(
        config, exchange, extra_routes=scenario.routes(exchange), background=[lambda: scenario.run(exchange)]
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", ws="websockets-sansio", lifespan="on"))
    quiet_dropped_connections()
    thread = threading.Thread(target=lambda: server.run(sockets=[sock]), daemon=True)
    thread.start()
    wait_for(lambda: server.started, 10, "the simulator")
    try:
        yield Venue(f"127.0.0.1:{sock.getsockname()[1]}", scenario)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
