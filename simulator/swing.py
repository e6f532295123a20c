"""The seeded "swing" scenario for the stop-loss campaign: one market per window whose Up bid follows a
seeded path that makes every trigger of seed 2.2 reachable (a dip of 15-30 %, a rise of 20-40 %, a
retrace of 10 %+ from its peak) and never the 50 % stop of the control variant (it stays above 0.30
for an entry at 0.50).

`SwingVenue` serves the simulator (CLOB REST, sockets, `/rpc`) on a loopback port from a thread and
drives its books on the server's own loop (the exchange is not thread-safe). The top bid is thin
(a third of a 6-share exit) so an exit walks two levels and its slippage is real.
"""

from __future__ import annotations

import asyncio
import random
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import uvicorn

from simulator.config import SimulatorConfig
from simulator.exchange import Exchange
from simulator.markets import SimMarket
from simulator.server import build_app, quiet_dropped_connections

__all__ = ["ENTRY_PRICE", "SwingVenue", "swing_bids"]

ENTRY_PRICE = Decimal("0.50")
_CENT = Decimal("0.01")
_MAKER = "sim-swing"


def _walk(start: int, end: int) -> list[int]:
    step = 1 if end >= start else -1
    return list(range(start + step, end + step, step))


def swing_bids(seed: int, index: int) -> list[Decimal]:
    """Window `index`'s Up best bids, one per step, in cents: down to a low, up to a high, back down
    (or up first), all seeded. Low 35-42 c, high 62-70 c, the last leg retraces at least 12 %."""
    rng = random.Random(seed * 1_000_003 + index)
    low, high = rng.randint(35, 42), rng.randint(62, 70)
    start = 49
    if rng.random() < 0.5:
        cents = [start, *_walk(start, low), *_walk(low, high), *_walk(high, high - 12)]
    else:
        cents = [start, *_walk(start, high), *_walk(high, low), *_walk(low, 50)]
    return [Decimal(c) * _CENT for c in cents]


class SwingVenue:
    """The simulator in this process, with one swing market per window."""

    def __init__(self, seed: int) -> None:
        self.config = SimulatorConfig(seed=seed, trade_mined_delay_s=0.02, trade_confirmed_delay_s=0.02)
        self.exchange = Exchange(self.config)
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        app = build_app(self.config, self.exchange)
        self._server = uvicorn.Server(
            uvicorn.Config(app, log_level="critical", ws="websockets-sansio", lifespan="on")
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._serve, name="swing-venue", daemon=True)
        self._count = 0

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        loop.run_until_complete(self._server.serve(sockets=[self._sock]))

    def __enter__(self) -> SwingVenue:
        quiet_dropped_connections()
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the swing simulator did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run `fn` on the server's loop and return its result."""
        if self._loop is None:
            raise RuntimeError("the venue is not running")
        future: Future[Any] = Future()

        def job() -> None:
            try:
                future.set_result(fn(*args))
            except BaseException as exc:
                future.set_exception(exc)

        self._loop.call_soon_threadsafe(job)
        return future.result(timeout=10)

    def new_market(self, asset: str = "btc", length: timedelta = timedelta(minutes=5)) -> SimMarket:
        """A fresh window open now, offered at the entry price."""
        self._count += 1
        n = self._count
        start = datetime.now(UTC).replace(microsecond=0)
        market = SimMarket(
            condition_id="0x" + f"{n:064x}",
            slug=f"{asset}-updown-5m-swing-{int(start.timestamp())}-{n}",
            question=f"{asset.upper()} Up or Down - swing window {n}",
            asset=asset,
            interval_s=int(length.total_seconds()),
            up_token_id=str(7 * 10**75 + 2 * n),
            down_token_id=str(7 * 10**75 + 2 * n + 1),
            start=start,
            end=start + length,
        )
        self.call(self.exchange.add_market, market)
        self.call(
            self.exchange.place_liquidity, market.up_token_id, "SELL", ENTRY_PRICE, Decimal(100), _MAKER
        )
        return market

    def set_bid(self, market: SimMarket, bid: Decimal) -> None:
        """The maker's book becomes: a thin bid at `bid` (2 shares), deep bids a tick and two below."""
        token = market.up_token_id

        def requote() -> None:
            self.exchange.cancel_owner_orders(_MAKER, token)
            for price, size in ((bid, 2), (bid - _CENT, 2), (bid - 2 * _CENT, 1000)):
                self.exchange.place_liquidity(token, "BUY", price, Decimal(size), _MAKER)

        self.call(requote)

    def resolve(self, market: SimMarket, up_won: bool) -> str:
        winner = market.up_token_id if up_won else market.down_token_id
        self.call(self.exchange.resolve_market, market.condition_id, winner)
        return winner
