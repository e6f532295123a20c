"""The user connector against the simulator and real Kafka: with API credentials derived by the
unmodified py-clob-client-v2, our resting GTC order and its fill by another account's crossing order
reach trade.executions as OrderUpdates and one Fill per trade status (MATCHED, MINED, CONFIRMED),
with no duplicates and nothing of the other account's."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import OrderArgsV2, OrderType
from pydantic import SecretStr

from connectors.kafka import EventProducer
from connectors.polymarket.user_ws import ApiCreds, UserChannel
from connectors.ws_runner import RunnerConfig, WsRunner
from core.backoff import Backoff
from core.enums import OrderStatus, Side, TradeStatus
from core.models import Fill, OrderUpdate
from infra import stack
from tests.integration.feeds_harness import TopicTail, add_market, on_thread, wait_for
from tests.simulator.conftest import HARDHAT_KEY, OTHER_KEY, RunningSim, fast_config, start_sim

pytestmark = [pytest.mark.stack, pytest.mark.timeout(30)]

FAST = RunnerConfig(ping_interval_s=1.0, silence_gap=None, backoff=Backoff(base_s=0.05, cap_s=0.2))


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    running, stop = start_sim(fast_config(trade_mined_delay_s=0.1, trade_confirmed_delay_s=0.1))
    try:
        yield running
    finally:
        stop()


def client_for(sim: RunningSim, key: str) -> ClobClient:
    client = ClobClient(host=sim.url, chain_id=137, key=key)
    client.set_api_creds(client.create_or_derive_api_key())
    return client


def test_resting_order_filled_by_another_account_reaches_trade_executions_once_per_status(
    sim: RunningSim, endpoints: stack.Endpoints
) -> None:
    market = add_market(sim)
    up, down = market.up_token_id, market.down_token_id
    ours, theirs = client_for(sim, HARDHAT_KEY), client_for(sim, OTHER_KEY)
    creds = ours.creds
    channel = UserChannel(
        f"{sim.ws_url}/ws/user",
        ApiCreds(creds.api_key, SecretStr(creds.api_secret), SecretStr(creds.api_passphrase)),
        feed="test.user." + market.condition_id[2:10],
    )
    channel.follow([(market.condition_id, market.slug)])
    producer = EventProducer(endpoints.kafka_bootstrap)
    runner = WsRunner(channel, producer, None, FAST, lambda: datetime.now(UTC), random.random)
    tail = TopicTail(endpoints.kafka_bootstrap, endpoints.kafka_embedded, "trade.executions")

    def mine(event: Any) -> bool:
        return getattr(event, "token_id", None) in (up, down)

    def settled(events: list[Any]) -> bool:
        return any(isinstance(e, Fill) and e.status is TradeStatus.CONFIRMED for e in events)

    with on_thread(runner.run):
        wait_for(runner.connected.is_set, 10, "the user channel to connect")
        time.sleep(0.2)  # the subscription frame is processed before our order is placed
        resting = ours.post_order(
            ours.create_order(OrderArgsV2(token_id=up, price=0.45, size=10.0, side="BUY")), OrderType.GTC
        )
        assert resting["status"] == "live"
        crossing = theirs.post_order(
            theirs.create_order(OrderArgsV2(token_id=down, price=0.55, size=10.0, side="BUY")),
            OrderType.GTC,
        )
        assert crossing["status"] == "matched"
        events = tail.read(mine, settled, timeout_s=15)
        producer.flush()
        events = tail.drain(mine, quiet_s=1.0)
    tail.close()

    updates = [e for e in events if isinstance(e, OrderUpdate)]
    fills = [e for e in events if isinstance(e, Fill)]
    assert {u.venue_order_id for u in updates} == {resting["orderID"]}
    assert updates[0].status is OrderStatus.LIVE
    assert updates[-1].size_matched == Decimal(10)
    assert all(u.window_id == market.slug and u.side is Side.BUY for u in updates)

    assert [f.status for f in fills] == [TradeStatus.MATCHED, TradeStatus.MINED, TradeStatus.CONFIRMED]
    assert len({f.trade_id for f in fills}) == 1
    fill = fills[0]
    assert fill.venue_order_id == resting["orderID"] and fill.is_maker
    assert (fill.token_id, fill.side, fill.price, fill.size) == (up, Side.BUY, Decimal("0.45"), Decimal(10))
    assert fill.window_id == market.slug
    assert all(f.recv_ts - f.source_ts < timedelta(seconds=10) for f in fills)
    fill_ids = [f.source_id for f in fills]
    assert len(fill_ids) == len(set(fill_ids)), "no fill twice"
    update_keys = [(u.status, u.size_matched, u.event_ts) for u in updates]
    assert len(update_keys) == len(set(update_keys)), "no order update twice"
    assert runner.counts["quarantined"] == 0
