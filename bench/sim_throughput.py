"""Simulator throughput: signed orders accepted per second, market-channel messages pushed per second.

Orders: V2 GTC orders signed beforehand by py-clob-client-v2 (hardhat test key), then posted one
after another through the unmodified client over loopback HTTP; each is authenticated (HMAC), its
EIP-712 signature recovered, checked and booked. The listening socket is created with IPPROTO_TCP
so asyncio sets TCP_NODELAY on accepted connections (a bare socket gets proto 0 and ~40 ms of
delayed-ACK stall per response, which would measure the kernel, not the simulator).
Messages: seeded order flow injected on the server loop
while one socket subscribed to both tokens counts what it receives. The last line is JSON.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import threading
import time
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import uvicorn
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2, OrderType
from websockets.sync.client import connect

from simulator.book import Side
from simulator.config import SimulatorConfig
from simulator.exchange import Exchange, VenueError
from simulator.markets import SimMarket
from simulator.server import build_app

TEST_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ORDERS = 3000
FLOW_EVENTS = 20_000


def market() -> SimMarket:
    start = datetime.now(UTC).replace(microsecond=0)
    return SimMarket(
        condition_id="0x" + "be" * 32,
        slug=f"btc-updown-5m-{int(start.timestamp())}",
        question="Bitcoin Up or Down - bench",
        asset="btc",
        interval_s=300,
        up_token_id=str(10**76 + 1),
        down_token_id=str(10**76 + 2),
        start=start,
        end=start + timedelta(hours=1),
    )


def serve(app: Any) -> tuple[str, asyncio.AbstractEventLoop, uvicorn.Server, threading.Thread]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", ws="websockets-sansio"))
    loops: list[asyncio.AbstractEventLoop] = []

    def run() -> None:
        loop = asyncio.new_event_loop()
        loops.append(loop)
        loop.run_until_complete(server.serve(sockets=[sock]))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return f"127.0.0.1:{port}", loops[0], server, thread


def on_loop(loop: asyncio.AbstractEventLoop, fn: Any, *args: Any) -> Any:
    future: Future[Any] = Future()

    def job() -> None:
        try:
            future.set_result(fn(*args))
        except BaseException as exc:
            future.set_exception(exc)

    loop.call_soon_threadsafe(job)
    return future.result(timeout=120)


def order_flow(exchange: Exchange, m: SimMarket, n: int) -> None:
    rng = random.Random(4)
    live: list[tuple[str, str]] = []
    for _ in range(n):
        if rng.random() < 0.3 and live:
            owner, oid = live.pop(rng.randrange(len(live)))
            exchange.cancel(owner, [oid])
            continue
        token = m.up_token_id if rng.random() < 0.5 else m.down_token_id
        cents = min(99, max(1, int(rng.gauss(50, 8))))
        owner = f"mm{rng.randrange(3)}"
        try:
            side: Side = "BUY" if rng.random() < 0.5 else "SELL"
            live.append(
                (owner, exchange.place_liquidity(token, side, Decimal(cents) / 100, Decimal(10), owner))
            )
        except VenueError:
            continue


def main() -> None:
    config = SimulatorConfig(seed=1, initial_collateral_usd=Decimal(10**9))
    exchange = Exchange(config)
    m = market()
    exchange.add_market(m)
    app = build_app(config, exchange)
    hub = app.state.sim.market_hub
    address, loop, server, thread = serve(app)
    try:
        client = ClobClient(host=f"http://{address}", chain_id=137, key=TEST_KEY)
        client.set_api_creds(client.create_or_derive_api_key())
        signed = [
            client.create_order(
                OrderArgsV2(token_id=m.up_token_id, price=0.01 * (1 + i % 40), size=5.0 + i // 40, side="BUY")
            )
            for i in range(ORDERS)
        ]
        started = time.perf_counter()
        accepted = sum(1 for order in signed if client.post_order(order, OrderType.GTC)["success"])
        orders_s = accepted / (time.perf_counter() - started)
        print(f"orders accepted: {accepted} in {accepted / orders_s:.2f} s -> {orders_s:.0f} orders/s")

        with connect(f"ws://{address}/ws/market", max_size=None) as ws:
            ws.send(json.dumps({"assets_ids": list(m.token_ids), "type": "market"}))
            ws.recv(timeout=5)
            sent_before = hub.sent
            started = time.perf_counter()
            on_loop(loop, order_flow, exchange, m, FLOW_EVENTS)
            received = 0
            last = time.perf_counter()
            while True:
                try:
                    ws.recv(timeout=0.5)
                except TimeoutError:
                    break
                received += 1
                last = time.perf_counter()
            elapsed = last - started
        pushed = hub.sent - sent_before
        messages_s = pushed / elapsed
        print(
            f"market messages pushed: {pushed} (received {received}) in {elapsed:.2f} s -> {messages_s:.0f} msg/s"
        )
        print(
            json.dumps(
                {
                    "orders_accepted": accepted,
                    "orders_accepted_per_s": round(orders_s, 1),
                    "market_messages_pushed": pushed,
                    "market_messages_per_s": round(messages_s, 1),
                }
            )
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)


if __name__ == "__main__":
    main()
