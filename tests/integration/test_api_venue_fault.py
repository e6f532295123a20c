"""Acceptance (issue 13): a fault injected in the simulator (the venue's position differs from ours)
trips the breaker naming that assertion; the alert reaches a local webhook once; /health reports it;
a reset clears it. The venue is read as the executor reads it: py-clob-client-v2 over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from psycopg_pool import ConnectionPool
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import AssetType, BalanceAllowanceParams
from pydantic import SecretStr

from core.assertions import TickSnapshot
from execution.assertion_runner import AssertionRunner
from sinks.alerts import Notifier
from sinks.postgres.alert_delivery import AlertDeliveryLog
from sinks.postgres.migrate import migrate
from tests.integration.api_harness import RunningApi, running_api, wait_for
from tests.integration.private_kafka import PrivateKafka, private_kafka
from tests.integration.webhook_receiver import Receiver, webhook_receiver
from tests.simulator.conftest import HARDHAT_ADDRESS, HARDHAT_KEY, RunningSim, fast_config, start_sim

pytestmark = [pytest.mark.stack, pytest.mark.timeout(180)]


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    running, stop = start_sim(fast_config())
    try:
        yield running
    finally:
        stop()


@pytest.fixture
def kafka() -> Iterator[PrivateKafka]:
    with private_kafka() as cluster:
        yield cluster


@pytest.fixture
def api(fresh_database: str, kafka: PrivateKafka) -> Iterator[RunningApi]:
    migrate(fresh_database)
    with running_api(fresh_database, kafka.bootstrap) as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as found:
        yield found


def _venue_shares(client: ClobClient, token: str) -> Decimal:
    answer = client.get_balance_allowance(
        BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL, token_id=token)
    )
    return Decimal(answer["balance"]) / 1_000_000


def _venue_collateral(client: ClobClient) -> Decimal:
    answer = client.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
    return Decimal(answer["balance"]) / 1_000_000


def test_a_venue_position_we_do_not_hold_trips_the_breaker_alerts_once_and_a_reset_clears_it(
    sim: RunningSim, api: RunningApi, receiver: Receiver
) -> None:
    client = ClobClient(host=sim.url, chain_id=137, key=HARDHAT_KEY)
    client.set_api_creds(client.create_or_derive_api_key())
    up = sim.market.up_token_id
    ours_collateral = _venue_collateral(client)
    clock = [datetime(2031, 5, 1, 12, tzinfo=UTC)]

    def snapshot() -> TickSnapshot:  # what the executor hands the runner each tick
        clock[0] += timedelta(seconds=1)
        return TickSnapshot(
            at=clock[0],
            intent_order_ids=frozenset(),
            orders=(),
            fills=(),
            our_positions={up: Decimal(0)},
            venue_positions={up: _venue_shares(client, up)},
            position_costs={},
            our_pnl_usd=Decimal(0),
            recomputed_pnl_usd=Decimal(0),
            allowed_instruments=frozenset(),
            max_position_usd=Decimal(5),
            executor_heartbeat_at=clock[0],
            our_balance_usd=ours_collateral,
            venue_balance_usd=_venue_collateral(client),
        )

    with ConnectionPool(api.database, min_size=1, max_size=2, open=True) as pool:
        notifier = Notifier([SecretStr(receiver.url)], AlertDeliveryLog(pool), wait_max_s=0.2)
        runner = AssertionRunner(snapshot, pool, api.deps.publish, notifier.notify)
        assert all(c.passed for c in runner.tick())
        injected = sim.admin("/balance", {"address": HARDHAT_ADDRESS, "asset": up, "amount": "7"})
        assert injected.status_code == 200, injected.text
        failed = [c for c in runner.tick() if not c.passed]
        runner.tick()
        assert [c.name for c in failed] == ["position_count"] and "venue 7" in failed[0].evidence
        assert runner.blocked()
        with api.client() as http:
            health = http.get("/health")
            assert health.status_code == 503 and health.json()["breaker"]["cause"] == "position_count"
            wait_for(lambda: len(receiver.received) >= 2, 20, "the alerts at the webhook")
            kinds = sorted(m["title"] for m in receiver.received)
            assert kinds == ["[CRITICAL] assertion.failed", "[CRITICAL] breaker.open"]
            sim.admin("/balance", {"address": HARDHAT_ADDRESS, "asset": up, "amount": "0"})
            assert all(c.passed for c in runner.tick())
            reset = http.post("/api/breaker/reset", json={"who": "ops", "why": "venue position explained"})
            assert reset.status_code == 200 and http.get("/health").status_code == 200
        runner.tick()
        assert not runner.blocked() and len(receiver.received) == 2
