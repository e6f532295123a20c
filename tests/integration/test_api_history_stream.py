"""History with filters and CSV export (fills with gross, fee, net and slippage; settlements with our
resolution against the venue's; the audit log), and the websocket pushing events as they reach
their topics."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
import websockets
from confluent_kafka import Consumer

from api.stream import KafkaPump
from connectors.kafka import EventProducer, consumer_config
from core.enums import Outcome, Side
from core.models import Signal
from sinks.postgres.migrate import migrate
from tests.integration.api_harness import RunningApi, running_api, wait_for
from tests.integration.private_kafka import PrivateKafka, private_kafka

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]

T0 = datetime(2031, 5, 1, 12, 0, tzinfo=UTC)
VENUE_ID = "0x" + "b" * 64


@pytest.fixture
def kafka() -> Iterator[PrivateKafka]:
    with private_kafka() as cluster:
        yield cluster


@pytest.fixture
def api(fresh_database: str, kafka: PrivateKafka) -> Iterator[RunningApi]:
    migrate(fresh_database)
    with running_api(fresh_database, kafka.bootstrap) as running:
        yield running


def _seed(database: str) -> None:
    with psycopg.connect(database) as conn:
        for n, (ours, venue) in enumerate([("UP", "UP"), ("DOWN", "UP")]):
            start = T0 + timedelta(minutes=5 * n)
            conn.execute(
                "INSERT INTO windows (window_id, asset, interval_s, slug, condition_id, up_token_id, down_token_id,"
                " start_ts, end_ts, our_outcome, venue_outcome, phase) VALUES"
                " (%s, 'btc', 300, %s, %s, %s, %s, %s, %s, %s, %s, 'RESOLVED')",
                (
                    f"w{n}",
                    f"w{n}",
                    "0x" + f"{n}" * 64,
                    f"1{n}",
                    f"2{n}",
                    start,
                    start + timedelta(minutes=5),
                    ours,
                    venue,
                ),
            )
        conn.execute(
            "INSERT INTO orders (client_order_id, venue_order_id, mode, window_id, token_id, side, order_type,"
            " price, size, size_matched, status, created_at, updated_at) VALUES"
            " ('c1', %s, 'DRY_RUN', 'w0', '10', 'BUY', 'FOK', 0.50, 10, 10, 'FILLED', %s, %s)",
            (VENUE_ID, T0, T0),
        )
        conn.execute(
            "INSERT INTO fills (trade_id, mode, venue_order_id, client_order_id, window_id, token_id, side, price,"
            " size, fee_usd, status, is_maker, source_ts, recv_ts) VALUES"
            " ('t1', 'DRY_RUN', %s, 'c1', 'w0', '10', 'BUY', 0.52, 10, 0.05, 'CONFIRMED', false, %s, %s)",
            (VENUE_ID, T0, T0),
        )


def test_history_filters_and_exports_csv(api: RunningApi) -> None:
    database = api.database
    _seed(database)
    with api.client() as client:
        assert client.post("/api/kill-switch/pause", json={"who": "dan", "why": "lunch"}).status_code == 200
        fills = client.get("/api/history/fills", params={"window_id": "w0", "mode": "DRY_RUN"}).json()
        (fill,) = fills["rows"]
        assert Decimal(fill["gross_usd"]) == Decimal("5.2") and Decimal(fill["net_usd"]) == Decimal("5.25")
        assert Decimal(fill["slippage"]) == Decimal("0.02")
        assert client.get("/api/history/fills", params={"window_id": "w9"}).json()["rows"] == []
        settled = client.get("/api/history/settlements").json()["rows"]
        assert {r["window_id"]: r["agrees"] for r in settled} == {"w0": True, "w1": False}
        later = client.get(
            "/api/history/settlements", params={"since": (T0 + timedelta(minutes=6)).isoformat()}
        )
        assert [r["window_id"] for r in later.json()["rows"]] == ["w1"]
        exported = client.get("/api/history/audit", params={"format": "csv"})
        assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert rows[0]["actor"] == "dan" and rows[0]["action"] == "control.set"
        assert json.loads(rows[0]["detail"])["why"] == "lunch"
        assert client.get("/api/history/audit", params={"mode": "LIVE"}).status_code == 400
        assert client.get("/api/history/nothing").status_code == 422
        backwards = {"since": T0.isoformat(), "until": (T0 - timedelta(hours=1)).isoformat()}
        assert client.get("/api/history/orders", params=backwards).status_code == 400


def _signal(n: int) -> Signal:
    return Signal(
        signal_id=f"s{n}",
        window_id="btc-updown-5m-1",
        strategy="canary",
        token_id="10",
        outcome=Outcome.UP,
        side=Side.BUY,
        limit_price=Decimal("0.5"),
        notional_usd=Decimal(1),
        event_ts=T0,
    )


def test_the_websocket_pushes_events_as_they_reach_their_topics(api: RunningApi, kafka: PrivateKafka) -> None:
    consumer = Consumer(consumer_config(kafka.bootstrap, f"api-{uuid.uuid4().hex[:8]}", embedded=True))
    pump = KafkaPump(consumer, api.deps.broadcaster)
    stop = threading.Event()
    thread = threading.Thread(target=pump.run, args=(stop.is_set,), daemon=True)
    thread.start()
    producer = EventProducer(kafka.bootstrap)
    url = api.base.replace("http://", "ws://") + "/ws/events?topics=trade.signals"

    async def receive() -> dict[str, object]:
        async with websockets.connect(url) as socket:
            wait_for(lambda: api.deps.broadcaster.clients == 1, 10, "the websocket to subscribe")
            producer.produce("trade.signals", _signal(1))
            producer.flush(10)
            decoded: dict[str, object] = json.loads(await asyncio.wait_for(socket.recv(), 30))
            return decoded

    try:
        message = asyncio.run(receive())
    finally:
        stop.set()
        thread.join(timeout=10)
        producer.close(1)
    assert message["topic"] == "trade.signals"
    event = message["event"]
    assert isinstance(event, dict) and event["signal_id"] == "s1"


def test_the_websocket_refuses_a_topic_it_does_not_stream(api: RunningApi) -> None:
    url = api.base.replace("http://", "ws://") + "/ws/events?topics=md.book"

    async def refused() -> int | None:
        try:
            async with websockets.connect(url) as socket:
                await socket.recv()
        except websockets.exceptions.InvalidStatus as exc:
            return exc.response.status_code
        except websockets.exceptions.ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None
        return None

    assert asyncio.run(refused()) in (403, 1008)
