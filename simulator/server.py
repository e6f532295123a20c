"""Composition of the simulator's ASGI app, and `run()` for the `polywindow sim` command.

`build_app` serves the CLOB REST routes at the root, `/ws/market`, `/ws/user`, `/_admin`, the chain's
JSON-RPC at `/rpc` (redeeming resolved positions, simulator.chain), plus any
`extra_routes` (part B mounts Gamma at `/gamma` and RTDS at `/rtds` that way) and runs the
`background` coroutines (scenario drivers) and the exchange pump while the app is up.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from simulator.admin import AdminApi, HttpFaultMiddleware
from simulator.auth import ApiKeyStore
from simulator.chain import chain_routes
from simulator.clob_rest import ConnectionDropped, clob_routes
from simulator.config import SimulatorConfig
from simulator.exchange import Exchange
from simulator.markets import SimClock, WallClock
from simulator.ws_market import MarketHub
from simulator.ws_user import UserHub

Background = Callable[[], Awaitable[None]]


@dataclass
class SimServices:
    """What a running app is made of; tests and scenarios reach the parts through `app.state.sim`."""

    config: SimulatorConfig
    exchange: Exchange
    keys: ApiKeyStore
    market_hub: MarketHub
    user_hub: UserHub


class Scenario(Protocol):
    """What `run()` needs from a scenario (part B's `simulator.scenarios.build_scenario`)."""

    clock: SimClock

    def routes(self, exchange: Exchange) -> Sequence[BaseRoute]: ...

    async def run(self, exchange: Exchange) -> None: ...


class EmptyScenario:
    """No markets, wall-clock time: the venue with nothing listed."""

    clock: SimClock = WallClock()

    def routes(self, exchange: Exchange) -> Sequence[BaseRoute]:
        return []

    async def run(self, exchange: Exchange) -> None:
        return None


async def _pump(exchange: Exchange, interval_s: float) -> None:
    while True:
        exchange.pump()
        await asyncio.sleep(interval_s)


def build_app(
    config: SimulatorConfig,
    exchange: Exchange,
    *,
    keys: ApiKeyStore | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    background: Sequence[Background] = (),
) -> Starlette:
    """The simulator as one ASGI app; `exchange` must use `config` (the pump runs in the lifespan)."""
    keys = keys or ApiKeyStore(config.api_key_seed.get_secret_value(), config.chain_id, config.auth_skew_s)
    market_hub = MarketHub(exchange, exchange.faults)
    user_hub = UserHub(keys)
    exchange.listeners.extend([market_hub.on_message, user_hub.on_message])
    admin = AdminApi(config.admin_token.get_secret_value(), exchange, market_hub, user_hub)
    routes: list[BaseRoute] = [
        market_hub.route(),
        user_hub.route(),
        admin.mount(),
        *extra_routes,
        *chain_routes(exchange),
        *clob_routes(exchange, keys),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(_pump(exchange, config.pump_interval_s))]
        tasks += [asyncio.create_task(job()) for job in background]  # type: ignore[arg-type]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    app = Starlette(
        routes=routes,
        middleware=[Middleware(HttpFaultMiddleware, faults=exchange.faults)],
        lifespan=lifespan,
    )
    app.state.sim = SimServices(config, exchange, keys, market_hub, user_hub)
    return app


class _DroppedFilter(logging.Filter):
    """Keep the log quiet about connections dropped on purpose by fault injection."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], ConnectionDropped))


def quiet_dropped_connections() -> None:
    logging.getLogger("uvicorn.error").addFilter(_DroppedFilter())


def load_scenario(name: str, config: SimulatorConfig, speed: float) -> Scenario:
    """Resolve a scenario by name through `simulator.scenarios.build_scenario`, if it exists."""
    if name in ("", "empty", "none"):
        return EmptyScenario()
    module: Any = importlib.import_module("simulator.scenarios")
    scenario: Scenario = module.build_scenario(name, config=config, speed=speed)
    return scenario


def run(
    port: int,
    scenario: str,
    speed: float,
    seed: int,
    admin_token: SecretStr,
    built: Scenario | None = None,
) -> None:
    """Serve the simulator on 127.0.0.1:`port` until interrupted; `/_admin` wants `admin_token`.

    `built`: a scenario the caller built (the composition root's archive-fed replay-books), else
    `scenario` is loaded by name.
    """
    config = SimulatorConfig(port=port, seed=seed, admin_token=admin_token)
    chosen = built if built is not None else load_scenario(scenario, config, speed)
    exchange = Exchange(config, chosen.clock)
    app = build_app(
        config,
        exchange,
        extra_routes=chosen.routes(exchange),
        background=[lambda: chosen.run(exchange)],
    )
    quiet_dropped_connections()
    uvicorn.run(app, host=config.host, port=port, log_level="warning", ws="websockets-sansio")
