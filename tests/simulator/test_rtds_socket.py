"""RTDS over a real websocket: grammar, backfills, updates, each quirk, and frame shapes vs the recording."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.applications import Starlette
from websockets.sync.client import ClientConnection, connect

from simulator.exchange import Exchange
from simulator.fixture_day import fixtures_dir
from simulator.loopback import serve_in_thread
from simulator.markets import ManualClock
from simulator.rtds import RtdsSettings
from simulator.scenario import Scenario, ScenarioSettings, build_scenario
from simulator.windows import WindowSettings

T0 = datetime(2026, 9, 5, 12, 0, tzinfo=UTC)
CHAINLINK_BTC = {"topic": "crypto_prices_chainlink", "type": "*", "filters": '{"symbol":"btc/usd"}'}


def make_scenario(rtds: RtdsSettings | None = None) -> Scenario:
    settings = ScenarioSettings(
        start=T0,
        windows=WindowSettings(assets=("btc", "eth"), intervals_s=(300,), horizon_s=900),
        rtds=rtds or RtdsSettings(),
        liquidity=False,
    )
    scenario = build_scenario("synthetic", 1.0, 11, Exchange(), settings=settings, clock=ManualClock(T0))
    scenario.advance_to(T0 + timedelta(seconds=150))
    return scenario


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Scenario, str]]:
    scenario = make_scenario()
    with serve_in_thread(Starlette(routes=scenario.routes())) as base:
        yield scenario, base.replace("http://", "ws://") + "/rtds"


@pytest.fixture()
def socket(served: tuple[Scenario, str]) -> Iterator[ClientConnection]:
    with connect(served[1], max_queue=None) as ws:  # unbounded: closing with unread frames is quick
        assert ws.recv(timeout=5) == ""  # the empty text frame RTDS sends at connect
        yield ws


def recv_json(ws: ClientConnection, timeout: float = 5) -> Any:
    return json.loads(ws.recv(timeout=timeout))


def silent(ws: ClientConnection, seconds: float = 0.4) -> bool:
    try:
        ws.recv(timeout=seconds)
    except TimeoutError:
        return True
    return False


def subscribe(ws: ClientConnection, *subs: dict[str, str], action: str = "subscribe") -> None:
    ws.send(json.dumps({"action": action, "subscriptions": list(subs)}))


def step(scenario: Scenario, seconds: int) -> None:
    scenario.advance_to(scenario.now + timedelta(seconds=seconds))


def shape(value: Any) -> Any:
    """Keys and value types, recursively (lists by their first element)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def recorded_frames() -> list[dict[str, Any]]:
    path = fixtures_dir() / "rtds-binance-frames" / "rtds_observed_frames.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_chainlink_subscribe_backfills_mislabelled_then_streams_updates(
    served: tuple[Scenario, str], socket: ClientConnection
) -> None:
    scenario, _ = served
    subscribe(socket, CHAINLINK_BTC)
    backfill = recv_json(socket)
    assert backfill["type"] == "subscribe" and backfill["topic"] == "crypto_prices"
    assert backfill["payload"]["symbol"] == "btc/usd"
    assert 55 <= len(backfill["payload"]["data"]) <= 59
    step(scenario, 3)
    update = recv_json(socket)
    assert update["topic"] == "crypto_prices_chainlink" and update["type"] == "update"
    assert update["connection_id"] and update["payload"]["symbol"] == "btc/usd"
    assert re.fullmatch(r"[0-9]{20,}", update["payload"]["full_accuracy_value"])
    assert (
        update["payload"]["timestamp"] % 1000 == 0 and update["timestamp"] >= update["payload"]["timestamp"]
    )


def test_frames_have_the_recorded_shapes(served: tuple[Scenario, str], socket: ClientConnection) -> None:
    scenario, _ = served
    recorded = recorded_frames()
    subs = [
        {"topic": "crypto_prices", "type": "update", "filters": '{"symbol":"btcusdt"}'},
        CHAINLINK_BTC,
        {"topic": "crypto_prices_twap_thirty", "type": "*", "filters": '{"symbol":"btc/usd"}'},
        {"topic": "crypto_prices_twap_sixty", "type": "*", "filters": '{"symbol":"btc/usd"}'},
    ]
    got: dict[tuple[str, str, str], dict[str, Any]] = {}

    def take(frame: dict[str, Any]) -> None:
        got.setdefault((frame["topic"], frame["type"], frame["payload"]["symbol"]), frame)

    for sub in subs:
        subscribe(socket, sub)
        take(recv_json(socket))  # the backfill: the subscription is live once it arrives
    step(scenario, 5)
    while len(got) < 8:
        take(recv_json(socket))
    expected_keys = [
        ("crypto_prices", "update", "btcusdt"),
        ("crypto_prices", "subscribe", "btcusdt"),
        ("crypto_prices_chainlink", "update", "btc/usd"),
        ("crypto_prices", "subscribe", "btc/usd"),
        ("crypto_prices_twap_thirty", "update", "btc/usd"),
        ("crypto_prices_twap_thirty", "subscribe", "btc/usd"),
        ("crypto_prices_twap_sixty", "update", "btc/usd"),
        ("crypto_prices_twap_sixty", "subscribe", "btc/usd"),
    ]
    for key, golden in zip(expected_keys, recorded[:8], strict=True):
        assert (golden["topic"], golden["type"], golden["payload"]["symbol"]) == key
        assert shape(got[key]) == shape(golden), key
    binance = got[expected_keys[0]]["payload"]["full_accuracy_value"]
    assert re.fullmatch(r"[0-9]+\.[0-9]{8}", binance)
    assert len(got[expected_keys[1]]["payload"]["data"]) == 120


def test_unknown_topic_poisons_the_batch_with_the_venue_error(
    served: tuple[Scenario, str], socket: ClientConnection
) -> None:
    scenario, _ = served
    bad = {"topic": "definitely_not_a_topic", "type": "update", "filters": '{"symbol":"btc/usd"}'}
    subscribe(socket, CHAINLINK_BTC, bad)
    assert recv_json(socket) == recorded_frames()[8]
    step(scenario, 3)
    assert silent(socket)


def test_whitespace_in_the_filter_gives_a_backfill_then_silence(
    served: tuple[Scenario, str], socket: ClientConnection
) -> None:
    scenario, _ = served
    subscribe(socket, {**CHAINLINK_BTC, "filters": '{"symbol": "btc/usd"}'})
    assert recv_json(socket)["type"] == "subscribe"
    step(scenario, 3)
    assert silent(socket)


def test_unsubscribe_stops_updates_and_ping_gets_no_pong(
    served: tuple[Scenario, str], socket: ClientConnection
) -> None:
    scenario, _ = served
    subscribe(socket, {"topic": "crypto_prices", "type": "update", "filters": '{"symbol":"ethusdt"}'})
    assert recv_json(socket)["payload"]["symbol"] == "ethusdt"
    step(scenario, 2)
    assert recv_json(socket)["payload"]["symbol"] == "ethusdt"
    subscribe(
        socket,
        {"topic": "crypto_prices", "type": "update", "filters": '{"symbol":"ethusdt"}'},
        action="unsubscribe",
    )
    socket.send("PING")
    while not silent(socket, 0.3):
        pass
    step(scenario, 3)
    assert silent(socket)


def test_quirks_can_be_switched_off() -> None:
    scenario = make_scenario(
        RtdsSettings(
            empty_frame_at_connect=False,
            mislabel_chainlink_backfill=False,
            whitespace_filter_silences=False,
            unknown_topic_poisons_batch=False,
        )
    )
    app = Starlette(routes=scenario.routes())
    with serve_in_thread(app) as base, connect(base.replace("http://", "ws://") + "/rtds") as ws:
        bad = {"topic": "definitely_not_a_topic", "type": "update"}
        subscribe(ws, {**CHAINLINK_BTC, "filters": '{"symbol": "btc/usd"}'}, bad)
        backfill = recv_json(ws)  # no empty frame first, no error envelope
        assert backfill["topic"] == "crypto_prices_chainlink" and backfill["type"] == "subscribe"
        step(scenario, 3)
        assert recv_json(ws)["type"] == "update"
