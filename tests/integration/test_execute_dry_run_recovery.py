"""A DRY_RUN executor SIGKILLed between storing a simulated order and walking the book: the restarted
`polywindow execute --mode DRY_RUN` walks the book the decision saw (stored with the order) with the
same simulated-fill function, so the order ends as it would have without the crash, not REJECTED."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from decimal import Decimal

import psycopg
import pytest

from core.enums import TradingMode
from core.execution import simulated_venue_order_id
from execution.fill_sources import BookFills, context_book
from execution.order_manager import BuiltOrder
from infra import stack
from sinks.postgres.migrate import migrate
from tests.integration.cli import POLYWINDOW, REPO
from tests.integration.execute_harness import (
    allow_instruments,
    intent_for,
    order_row,
    record_window,
    rows,
    skip_backlog,
    venue_of,
)
from tests.integration.test_execute_kill import as_url
from tests.simulator.conftest import HARDHAT_KEY, RunningSim, wait_until

pytestmark = [pytest.mark.stack, pytest.mark.timeout(150)]
D = Decimal


def test_a_dry_run_order_left_by_a_sigkill_is_walked_again_against_its_decision_book(
    sim: RunningSim, fresh_database: str, endpoints: stack.Endpoints
) -> None:
    migrate(fresh_database)
    asks = (("0.48", "4"), ("0.50", "100"))
    intent = intent_for(sim, price="0.50", size="6", asks=asks, mode=TradingMode.DRY_RUN)
    env = {**os.environ, "POLY_PRIVATE_KEY": HARDHAT_KEY}
    child = subprocess.run(
        [sys.executable, "-m", "tests.integration.dry_run_kill_child", fresh_database, sim.url],
        input=intent.model_dump_json().encode(),
        cwd=REPO,
        env=env,
        timeout=60,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        assert order_row(conn, intent.client_order_id)[:2] == ("SUBMITTED", D(0))
        record_window(conn, sim)
        allow_instruments(conn, "btc-5m")

    group = f"execute-{uuid.uuid4().hex[:8]}"
    skip_backlog(endpoints.kafka_bootstrap, group)
    restarted = subprocess.Popen(
        [str(POLYWINDOW), "execute", "--mode", "DRY_RUN"],
        cwd=REPO,
        env={
            **env,
            "DATABASE_URL": as_url(fresh_database),
            "KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
            "POLYWINDOW_CLOB_URL": sim.url,
            "POLYWINDOW_EXECUTE_GROUP": group,
        },
        stdout=subprocess.DEVNULL,
    )
    try:
        with psycopg.connect(fresh_database, autocommit=True) as conn:
            wait_until(
                lambda: order_row(conn, intent.client_order_id)[0] != "SUBMITTED",
                90,
                "the restarted executor to settle the order the crash left",
            )
            assert order_row(conn, intent.client_order_id)[:2] == ("FILLED", D(6))
            fills = rows(conn, "SELECT trade_id, price, size, fee_usd FROM fills ORDER BY price")
            position = rows(conn, "SELECT state, size FROM positions")
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(30)

    # What the same intent gives without a crash: the one simulated fill on the same book.
    tick, schedule = venue_of(sim).market_info(intent.token_id)
    uninterrupted = BookFills(context_book).place(
        intent, BuiltOrder(simulated_venue_order_id(intent.client_order_id), {}), tick, schedule
    )
    assert fills == [(t.trade_id, t.price, t.size, t.fee) for t in uninterrupted.trades]
    assert [(p, s) for _t, p, s, _f in fills] == [(D("0.48"), D(4)), (D("0.50"), D(2))]
    assert position == [("MONITORING", D(6))]
