"""A real simulator on a loopback port, served by uvicorn in a thread, for venue-level tests."""

from __future__ import annotations

import asyncio
import atexit
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from simulator.admin_token import read_admin_token, stack_admin_token
from simulator.config import SimulatorConfig
from simulator.exchange import Exchange
from simulator.markets import SimMarket
from simulator.server import build_app, load_scenario, quiet_dropped_connections

HARDHAT_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
HARDHAT_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
OTHER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
# The tests' stack directory: its admin token file is made, and read, as `polywindow sim` users do.
TEST_STACK = Path(tempfile.mkdtemp(prefix="polywindow-sim-stack-"))
atexit.register(shutil.rmtree, TEST_STACK, True)


def admin_token() -> str:
    """What a user does: read `<stack dir>/sim-admin.token`."""
    token = read_admin_token(TEST_STACK)
    assert token is not None, "the simulator's admin token file is missing"
    return token.get_secret_value()


def make_market(n: int = 1, interval_s: int = 300) -> SimMarket:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)
    return SimMarket(
        condition_id="0x" + f"{n:02x}" * 32,
        slug=f"btc-updown-5m-{int(start.timestamp())}-{n}",
        question="Bitcoin Up or Down - test window",
        asset="btc",
        interval_s=interval_s,
        up_token_id=str(10**76 + 2 * n),
        down_token_id=str(10**76 + 2 * n + 1),
        start=start,
        end=start + timedelta(hours=2),
    )


def call_on(loop: asyncio.AbstractEventLoop, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run `fn` on the server's event loop (the exchange is not thread-safe) and return its result."""
    future: Future[Any] = Future()

    def job() -> None:
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            future.set_exception(exc)

    loop.call_soon_threadsafe(job)
    return future.result(timeout=10)


@dataclass
class RunningSim:
    url: str
    ws_url: str
    exchange: Exchange
    market: SimMarket
    loop: asyncio.AbstractEventLoop

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return call_on(self.loop, fn, *args, **kwargs)

    def admin(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return httpx.post(
            f"{self.url}/_admin{path}", json=body or {}, headers={"X-Admin-Token": admin_token()}
        )

    def quote(self, token: str, side: str, price: str, size: str, owner: str = "sim-mm") -> str:
        return str(
            self.call(self.exchange.place_liquidity, token, side, Decimal(price), Decimal(size), owner)
        )


def start_sim(config: SimulatorConfig) -> tuple[RunningSim, Callable[[], None]]:
    exchange = Exchange(config)
    market = make_market()
    exchange.add_market(market)
    app = build_app(config, exchange)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", ws="websockets-sansio", lifespan="on"))
    quiet_dropped_connections()
    loops: list[asyncio.AbstractEventLoop] = []

    def serve() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loops.append(loop)
        loop.run_until_complete(server.serve(sockets=[sock]))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("simulator did not start")
        time.sleep(0.01)
    sim = RunningSim(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}", exchange, market, loops[0])

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    return sim, stop


def fast_config(**overrides: Any) -> SimulatorConfig:
    base: dict[str, Any] = {
        "trade_mined_delay_s": 0.05,
        "trade_confirmed_delay_s": 0.05,
        "admin_token": stack_admin_token(TEST_STACK),
        "seed": 7,
    }
    base.update(overrides)
    return SimulatorConfig(**base)


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    running, stop = start_sim(fast_config())
    try:
        yield running
    finally:
        stop()


@dataclass
class ScenarioSim:
    """A simulator serving a scenario (Gamma at /gamma, RTDS at /rtds), with its lifespan running."""

    url: str
    scenario: Any
    exchange: Exchange
    loop: asyncio.AbstractEventLoop

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return call_on(self.loop, fn, *args, **kwargs)


@contextmanager
def scenario_sim(name: str = "synthetic", speed: float = 1.0, **overrides: Any) -> Iterator[ScenarioSim]:
    """`name` served like `polywindow sim` serves it, on a free loopback port, until the block ends."""
    config = fast_config(**overrides)
    with serve_scenario(load_scenario(name, config, speed), config) as running:
        yield running


@contextmanager
def serve_scenario(scenario: Any, config: SimulatorConfig) -> Iterator[ScenarioSim]:
    """Serve a built (unbound) scenario with the exchange pump and the scenario task running."""
    exchange = Exchange(config, scenario.clock)
    app = build_app(
        config,
        exchange,
        extra_routes=scenario.routes(exchange),
        background=[lambda: scenario.run(exchange)],
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", ws="websockets-sansio", lifespan="on"))
    quiet_dropped_connections()
    loops: list[asyncio.AbstractEventLoop] = []

    def serve() -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loops.append(loop)
        loop.run_until_complete(server.serve(sockets=[sock]))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("simulator did not start")
        time.sleep(0.01)
    try:
        yield ScenarioSim(f"http://127.0.0.1:{sock.getsockname()[1]}", scenario, exchange, loops[0])
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll `predicate` until it holds; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)
