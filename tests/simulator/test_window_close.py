"""At a window's close, on the scenario clock, with the unmodified py-clob-client-v2: orders are refused
from `endDate` on, a GTD order needs a minute of security margin, a resting GTD order is retired a
minute before its expiration; and at speed 1 the scenario's clock is the wall clock."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2, OrderType
from py_clob_client_v2.exceptions import PolyApiException
from websockets.sync.client import connect

from simulator.markets import ManualClock
from simulator.scenario import ScenarioSettings, build_scenario
from simulator.windows import Window, WindowSettings
from tests.simulator.conftest import HARDHAT_KEY, ScenarioSim, fast_config, scenario_sim, serve_scenario

T0 = datetime(2026, 9, 5, 12, 2, 0, tzinfo=UTC)  # scenario time far from the wall clock on purpose
WINDOW_END = datetime(2026, 9, 5, 12, 5, 0, tzinfo=UTC)


@pytest.fixture
def closing() -> Iterator[tuple[ScenarioSim, Window, ClobClient]]:
    settings = ScenarioSettings(
        start=T0, windows=WindowSettings(assets=("btc",), intervals_s=(300,), horizon_s=900), liquidity=False
    )
    scenario = build_scenario("synthetic", 1.0, 5, settings=settings, clock=ManualClock(T0))
    with serve_scenario(scenario, fast_config()) as sim:
        window = scenario.registry.get(
            f"btc-updown-5m-{int((WINDOW_END - timedelta(minutes=5)).timestamp())}"
        )
        assert window is not None and window.end == WINDOW_END
        client = ClobClient(host=sim.url, chain_id=137, key=HARDHAT_KEY)
        client.set_api_creds(client.create_or_derive_api_key())
        yield sim, window, client


def set_time(sim: ScenarioSim, when: datetime) -> None:
    """Move scenario time and let the exchange do its time-driven work at that time (on its loop)."""
    sim.call(sim.scenario.advance_to, when)
    sim.call(sim.exchange.pump)


def buy(
    client: ClobClient, window: Window, order_type: OrderType = OrderType.GTC, expiration: int = 0
) -> dict[str, Any]:
    args = OrderArgsV2(token_id=window.up_token_id, price=0.40, size=5.0, side="BUY", expiration=expiration)
    result: dict[str, Any] = client.post_order(client.create_order(args), order_type)
    return result


def test_orders_are_refused_from_the_window_end_on(closing: tuple[ScenarioSim, Window, ClobClient]) -> None:
    sim, window, client = closing
    set_time(sim, WINDOW_END - timedelta(seconds=1))
    assert client.get_server_time() == int(WINDOW_END.timestamp()) - 1
    assert buy(client, window)["success"] is True
    for after_s in (0, 7):
        set_time(sim, WINDOW_END + timedelta(seconds=after_s))
        with pytest.raises(PolyApiException) as refused:
            buy(client, window)
        assert refused.value.status_code == 400
        assert "not yet ready to process new orders" in refused.value.error_msg["error"]


def test_gtd_needs_a_minute_of_margin_on_the_scenario_clock(
    closing: tuple[ScenarioSim, Window, ClobClient],
) -> None:
    sim, window, client = closing
    set_time(sim, WINDOW_END - timedelta(seconds=100))
    now = client.get_server_time()
    assert now == int(WINDOW_END.timestamp()) - 100, "the client reads scenario time from /time"
    with pytest.raises(PolyApiException) as refused:
        buy(client, window, OrderType.GTD, now + 45)
    assert refused.value.status_code == 400 and "invalid expiration" in refused.value.error_msg["error"]
    posted = buy(client, window, OrderType.GTD, now + 60 + 30)
    assert posted["success"] is True and posted["status"] == "live"


def test_resting_gtd_is_retired_a_minute_before_its_expiration(
    closing: tuple[ScenarioSim, Window, ClobClient],
) -> None:
    sim, window, client = closing
    set_time(sim, WINDOW_END - timedelta(seconds=120))
    expiration = client.get_server_time() + 60 + 90  # a 90 s lifetime: retired 30 s before the close
    order_id = buy(client, window, OrderType.GTD, expiration)["orderID"]
    set_time(sim, datetime.fromtimestamp(expiration - 61, UTC))
    assert client.get_order(order_id)["status"] == "LIVE"
    set_time(sim, datetime.fromtimestamp(expiration - 60, UTC))
    assert client.get_order(order_id)["status"] == "CANCELED"
    assert client.get_open_orders() == []


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def test_at_speed_1_scenario_time_is_the_wall_time() -> None:
    with scenario_sim("synthetic", 1.0) as sim:
        assert abs(ClobClient(host=sim.url, chain_id=137).get_server_time() * 1000 - wall_ms()) < 1500
        now = sim.scenario.clock.now()
        window = next(w for w in sim.scenario.registry.listed() if w.start <= now < w.end)
        book = httpx.get(f"{sim.url}/book", params={"token_id": window.up_token_id}, timeout=10).json()
        assert abs(int(book["timestamp"]) - wall_ms()) < 1000
        with connect(sim.url.replace("http://", "ws://") + "/rtds") as ws:
            ws.send(
                json.dumps(
                    {
                        "action": "subscribe",
                        "subscriptions": [
                            {
                                "topic": "crypto_prices_chainlink",
                                "type": "*",
                                "filters": '{"symbol":"btc/usd"}',
                            }
                        ],
                    }
                )
            )
            deadline = time.monotonic() + 10
            while True:
                assert time.monotonic() < deadline, "no RTDS update arrived"
                text = ws.recv(timeout=10)
                frame = json.loads(text) if text else {}
                if frame.get("type") == "update":
                    assert abs(frame["timestamp"] - wall_ms()) < 1000, "RTDS send stamps follow the wall"
                    break
