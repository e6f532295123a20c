"""Binance 1-hour klines served by the simulator: exactly the candles its hourly windows settle on,
over REST and as kline streams whose final frame equals the REST row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

from simulator.config import SimulatorConfig
from simulator.exchange import Exchange
from simulator.loopback import serve_in_thread
from simulator.markets import ManualClock
from simulator.oracle import BINANCE
from simulator.scenario import Scenario, ScenarioSettings, build_scenario
from simulator.server import build_app
from simulator.windows import WindowSettings

T0 = datetime(2026, 9, 5, 12, 59, 0, tzinfo=UTC)  # paths start at 12:00:00, the hour closes at 13:00
HOUR_MS = 3_600_000


@dataclass
class Served:
    scenario: Scenario
    url: str

    @property
    def ws(self) -> str:
        return self.url.replace("http://", "ws://")

    def step_to(self, until: datetime) -> None:
        moment = self.scenario.now
        while moment < until:
            moment = min(moment + timedelta(seconds=1), until)
            self.scenario.advance_to(moment)

    def klines(self, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.url}/binance/api/v3/klines", params=params, timeout=10)


@pytest.fixture
def served() -> Iterator[Served]:
    settings = ScenarioSettings(
        start=T0,
        windows=WindowSettings(assets=("btc", "eth", "sol", "xrp"), horizon_s=3 * 3600),
        liquidity=False,
    )
    exchange = Exchange(SimulatorConfig(seed=3))
    scenario = build_scenario("synthetic", 1.0, 3, exchange, settings=settings, clock=ManualClock(T0))
    app = build_app(exchange.config, exchange, extra_routes=scenario.routes())
    with serve_in_thread(app) as url:
        yield Served(scenario, url)


def test_rest_candles_are_what_the_hourly_windows_resolve_on(served: Served) -> None:
    served.step_to(T0 + timedelta(minutes=3))
    hourly = [r for r in served.scenario.resolutions if "-up-or-down-" in r.slug]
    assert {r.slug.split("-")[0] for r in hourly} == {"bitcoin", "ethereum", "solana", "xrp"}
    for resolution in hourly:
        window = served.scenario.registry.get(resolution.slug)
        assert window is not None and not resolution.outcome.fallback_used
        symbol = f"{window.asset.upper()}USDT"
        start_ms = int(window.start.timestamp()) * 1000
        rows = served.klines(symbol=symbol, interval="1h", startTime=start_ms, limit=1).json()
        assert len(rows) == 1
        row = rows[0]
        assert row[0] == start_ms and row[6] == start_ms + HOUR_MS - 1
        assert Decimal(row[1]) == resolution.outcome.strike, symbol
        assert Decimal(row[4]) == resolution.outcome.close, symbol
        assert Decimal(row[3]) <= min(Decimal(row[1]), Decimal(row[4])) <= Decimal(row[2])
        assert all(isinstance(row[i], str) for i in (1, 2, 3, 4, 5, 7, 9, 10, 11)) and row[8] == 3600


def test_only_started_candles_are_served_and_the_running_one_closes_at_the_latest_price(
    served: Served,
) -> None:
    served.step_to(T0 + timedelta(minutes=2, seconds=30))
    rows = served.klines(symbol="BTCUSDT", interval="1h").json()
    now_ms = int(served.scenario.now.timestamp() * 1000)
    assert [r[0] for r in rows] == [1788609600000, 1788613200000] and all(r[0] <= now_ms for r in rows)
    latest = served.scenario.store.last_at_or_before(BINANCE, "btcusdt", now_ms)
    assert latest is not None and Decimal(rows[-1][4]) == latest[1]
    assert served.klines(symbol="BTCUSDT", interval="1h", limit=1).json() == rows[-1:]
    assert served.klines(symbol="BTCUSDT", interval="1h", endTime=1788609600000).json() == rows[:1]
    assert served.klines(symbol="BTCUSDT", interval="1h", startTime=1788609600001).json() == rows[1:]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"symbol": "BTCUSD", "interval": "1h"}, -1121),
        ({"symbol": "btcusdt", "interval": "1h"}, -1121),
        ({"symbol": "BTCUSDT", "interval": "1x"}, -1120),
        ({"interval": "1h"}, -1102),
        ({"symbol": "BTCUSDT", "interval": "1h", "limit": "0"}, -1130),
        ({"symbol": "BTCUSDT", "interval": "1h", "startTime": "soon"}, -1100),
    ],
)
def test_bad_requests_get_binance_errors(served: Served, params: dict[str, str], code: int) -> None:
    response = served.klines(**params)
    assert response.status_code == 400 and response.json()["code"] == code
    assert isinstance(response.json()["msg"], str)


def frames(ws: ClientConnection, until: Any, limit: int = 20_000) -> list[Any]:
    """Read frames until `until(frame)` holds for one (it is included)."""
    seen: list[Any] = []
    while len(seen) < limit:
        frame = json.loads(ws.recv(timeout=10))
        seen.append(frame)
        if until(frame):
            return seen
    raise AssertionError("the stream never sent the expected frame")


def test_combined_stream_updates_every_print_and_its_final_frame_equals_rest(served: Served) -> None:
    url = f"{served.ws}/binance/stream?streams=btcusdt@kline_1h/ethusdt@kline_1h"
    with connect(url) as ws:
        served.step_to(T0 + timedelta(seconds=61))  # just past the close: few frames left unread
        got = frames(ws, lambda f: f["stream"] == "btcusdt@kline_1h" and f["data"]["k"]["x"])
    final = got[-1]["data"]
    assert {f["stream"] for f in got} == {"btcusdt@kline_1h", "ethusdt@kline_1h"}
    k = final["k"]
    assert final["e"] == "kline" and final["s"] == "BTCUSDT" and k["i"] == "1h" and k["t"] == 1788609600000
    running = [f["data"]["k"] for f in got if f["stream"] == "btcusdt@kline_1h" and not f["data"]["k"]["x"]]
    # One update per relayed print while the candle ran (60 scenario seconds here, one print each).
    assert [r["n"] for r in running] == list(range(k["n"] - len(running) + 1, k["n"] + 1))
    assert len(running) >= 59
    row = served.klines(symbol="BTCUSDT", interval="1h", startTime=k["t"], limit=1).json()[0]
    assert [k["t"], k["o"], k["h"], k["l"], k["c"], k["v"], k["T"], k["q"], k["n"], k["V"], k["Q"]] == row[
        :11
    ]


def test_single_stream_sends_bare_events_and_takes_subscribe_frames(served: Served) -> None:
    with connect(f"{served.ws}/binance/ws/ethusdt@kline_1h") as ws:
        ws.send(json.dumps({"method": "SUBSCRIBE", "params": ["xrpusdt@kline_1h"], "id": 7}))
        assert json.loads(ws.recv(timeout=10)) == {"result": None, "id": 7}
        served.step_to(T0 + timedelta(seconds=5))
        got = frames(ws, lambda f: f["s"] == "XRPUSDT")
    assert got[0]["e"] == "kline" and "stream" not in got[0]
    assert {f["s"] for f in got} <= {"ETHUSDT", "XRPUSDT"}
