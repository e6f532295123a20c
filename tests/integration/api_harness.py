"""The control API served for real: uvicorn on a free loopback port in a thread, over a fresh
migrated database and a private Kafka cluster."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import uvicorn
from fastapi import FastAPI
from psycopg_pool import ConnectionPool
from pydantic import SecretStr

from api.app import ApiDeps, create_app
from connectors.kafka import EventProducer
from tests.integration.feeds_harness import wait_for as wait_for  # the one deadline poll

TOKEN = "test-token-" + "x" * 24


@dataclass
class RunningApi:
    base: str
    database: str
    deps: ApiDeps
    producer: EventProducer

    def client(self, token: str | None = TOKEN) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base, headers=headers, timeout=10)


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="critical", ws="websockets-sansio", lifespan="on"))

    def run() -> None:
        asyncio.run(server.serve(sockets=[sock]))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 10, "the API to start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def running_api(database: str, bootstrap: str, **deps: object) -> Iterator[RunningApi]:
    producer = EventProducer(bootstrap)

    def publish(topic: str, event: object) -> None:
        producer.produce(topic, event)  # type: ignore[arg-type]
        producer.flush(5)

    try:
        with ConnectionPool(database, min_size=1, max_size=4, timeout=5, open=True) as pool:
            built = ApiDeps(pool=pool, token=SecretStr(TOKEN), publish=publish, **deps)  # type: ignore[arg-type]
            with serve(create_app(built)) as base:
                yield RunningApi(base, database, built, producer)
    finally:
        producer.close(1)
