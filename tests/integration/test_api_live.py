"""GET /api/live against the simulator with `feeds` running: the API's live view (api.live over a real
Kafka consumer, the flow's own routing and window step) shows the current window's two books and
its oracle price; a malformed md.* message is counted and changes nothing else."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer

from api.live import LiveFeed, LivePump
from connectors.kafka import consumer_config
from core.live_board import LiveBoard
from core.strategies import build_strategy
from infra import stack
from polywindow.settings import FeedSettings
from polywindow.wiring import Feeds
from sinks.postgres.migrate import migrate
from tests.integration.api_harness import RunningApi, running_api, wait_for
from tests.integration.feeds_harness import on_thread, synthetic_venue
from tests.integration.private_kafka import private_kafka

pytestmark = [pytest.mark.stack, pytest.mark.timeout(150)]


@pytest.fixture
def live_stack(endpoints: stack.Endpoints, fresh_database: str) -> Iterator[tuple[RunningApi, str]]:
    """The simulator (btc only), `feeds` on a thread, and the API with its live pump, on a private
    Kafka cluster (so md.* holds this test's events only)."""
    migrate(fresh_database)
    with private_kafka() as kafka, synthetic_venue(1.0, assets=("btc",)) as venue:
        settings = FeedSettings(
            clob_url=f"http://{venue.address}",
            gamma_url=f"http://{venue.address}/gamma",
            market_ws_url=f"ws://{venue.address}/ws/market",
            rtds_url=f"ws://{venue.address}/rtds",
            assets=["btc"],
            intervals_s=[300],
            gamma_poll_s=0.5,
        )
        feeds = Feeds(settings, kafka.bootstrap, fresh_database, only={"gamma", "market", "rtds"})
        feed = LiveFeed(LiveBoard((build_strategy("canary", {}),)))
        consumer = Consumer(consumer_config(kafka.bootstrap, f"live-{uuid.uuid4().hex[:8]}", embedded=True))
        stop = threading.Event()
        pump = threading.Thread(target=LivePump(consumer, feed).run, args=(stop.is_set,), daemon=True)
        pump.start()
        try:
            with on_thread(feeds.run), running_api(fresh_database, kafka.bootstrap, live=feed) as api:
                yield api, kafka.bootstrap
        finally:
            feeds.close()
            stop.set()
            pump.join(timeout=10)


def _btc(api: RunningApi) -> dict[str, Any] | None:
    with api.client(token=None) as client:
        answer = client.get("/api/live/btc-5m")
    return answer.json() if answer.status_code == 200 else None


def _complete(view: dict[str, Any] | None) -> bool:
    return (
        view is not None
        # in a window's last minute a book may be one-sided (no bid under 0.002): still a book
        and all(view[side]["bids"] or view[side]["asks"] for side in ("up", "down"))
        and view["reference_price"] is not None
    )


def test_the_live_route_shows_the_current_windows_two_books_and_its_oracle_price(
    live_stack: tuple[RunningApi, str],
) -> None:
    api, bootstrap = live_stack
    try:
        wait_for(lambda: _complete(_btc(api)), 60, "btc-5m's books and oracle price in /api/live/btc-5m")
    except AssertionError:
        with api.client(token=None) as client:
            raise AssertionError(client.get("/api/live").text[:3000]) from None
    view = _btc(api)
    assert view is not None
    start, end = datetime.fromisoformat(view["start"]), datetime.fromisoformat(view["end"])
    reference_ts = datetime.fromisoformat(view["reference_ts"])
    assert start <= reference_ts < end, "the print is of the current window"
    assert 0 < float(view["seconds_left"]) <= 300
    for side in ("up", "down"):
        book = view[side]
        assert book["synced"]
        bids = [float(level["price"]) for level in book["bids"]]
        asks = [float(level["price"]) for level in book["asks"]]
        assert bids == sorted(bids, reverse=True) and asks == sorted(asks), "best first"
        assert not (bids and asks) or bids[0] < asks[0], "not crossed"
    assert float(view["reference_price"]) > 0
    assert [s["strategy"] for s in view["strategies"]] == ["canary"]

    with api.client(token=None) as client:
        whole = client.get("/api/live").json()
        assert [i["instrument"] for i in whole["instruments"]] == ["btc-5m"]
        assert whole["malformed"] == 0
        producer = Producer({"bootstrap.servers": bootstrap})
        producer.produce("md.book", b"not json")
        producer.flush(10)
        wait_for(
            lambda: client.get("/api/live").json()["malformed"] == 1, 20, "the malformed message counted"
        )
        assert client.get("/api/live/btc-5m").status_code == 200, "the view goes on"
        assert client.get("/api/live/eth-5m").status_code == 404
