"""Window integrity and completeness end to end: md.windows and md.oracle on the local Kafka, the
live flow's own construction reading them, and its rows in PostgreSQL (windows.our_outcome,
window_discrepancies, feed_completeness, alerts).

Each window has an asset of its own (its own oracle symbol), so prints other tests left on the
shared topics never reach it. The flow starts reading market data at the topic's end, so a
window's prints are produced again until its completeness row shows the flow held the window
when they arrived; after one more pass, the window is resolved.
"""

from __future__ import annotations

import random
import string
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from connectors.kafka import EventProducer
from core.enums import Outcome, WindowPhase
from core.models import WindowEvent
from flows.trading import TradingFlowSettings
from flows.trading_io import KafkaInput, build_kafka_flow
from infra.stack import Endpoints
from polywindow.flow_wiring import run_flow
from sinks.postgres.migrate import migrate
from tests.trading_builders import oracle, window

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]

START = (datetime.now(UTC) - timedelta(minutes=20)).replace(microsecond=0)
END = START + timedelta(seconds=300)


def _window(tag: str) -> WindowEvent:
    asset = "zz" + "".join(random.choices(string.ascii_lowercase, k=6))
    n = uuid.uuid4().int % 10**12
    event = window(
        start=START, window_id=f"{asset}-updown-5m-{tag}{n}", up=f"8{n}1", down=f"8{n}2", asset=asset
    )
    return event.model_copy(update={"condition_id": "0x" + uuid.uuid4().hex * 2})


def _resolved(w: WindowEvent) -> WindowEvent:
    at = END + timedelta(seconds=60)
    return w.model_copy(update={"phase": WindowPhase.RESOLVED, "venue_outcome": Outcome.UP, "source_ts": at})


def _rows(url: str, query: str, ids: Sequence[str]) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(query, (list(ids),)).fetchall()


@pytest.fixture
def flow(endpoints: Endpoints, fresh_database: str) -> Iterator[tuple[str, str]]:
    migrate(fresh_database)
    cfg = KafkaInput(
        bootstrap=endpoints.kafka_bootstrap,
        embedded=endpoints.kafka_embedded,
        database_url=fresh_database,
        market_data_start="end",
        batch_size=500,
    )
    stop = threading.Event()
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            run_flow(build_kafka_flow(cfg, TradingFlowSettings(), stop.is_set), 1)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=serve, name="flow", daemon=True)
    thread.start()
    try:
        yield fresh_database, endpoints.kafka_bootstrap
    finally:
        stop.set()
        thread.join(30)
    assert not thread.is_alive(), "the flow did not stop"
    assert errors == []


def test_the_flow_writes_our_outcome_completeness_and_alerts_to_postgresql(flow: tuple[str, str]) -> None:
    url, bootstrap = flow
    whole, late, hole = _window("whole"), _window("late"), _window("hole")
    ids: list[str] = [whole.window_id, late.window_id, hole.window_id]
    prints = {  # seconds from the start: the data of each window as the feeds produced it
        whole.window_id: range(-10, 302),
        late.window_id: range(40, 302),  # our data began after the window started
        hole.window_id: [s for s in range(-10, 302) if s != 0],  # data began, the start print is missing
    }
    by_id = {w.window_id: w for w in (whole, late, hole)}
    out = EventProducer(bootstrap)
    for w in by_id.values():
        out.produce("md.windows", w)
    out.flush()

    def produce_prints() -> None:
        for window_id, seconds in prints.items():
            symbol = f"{by_id[window_id].asset}/usd"
            for s in seconds:
                out.produce(
                    "md.oracle", oracle(START + timedelta(seconds=s), str(100_000 + s), symbol=symbol)
                )
        out.flush()

    deadline = time.monotonic() + 60
    while len(_rows(url, "SELECT window_id FROM feed_completeness WHERE window_id = ANY(%s)", ids)) < 3:
        assert time.monotonic() < deadline, "no completeness rows from the flow"
        produce_prints()
    produce_prints()  # once more, whole, now that every window is known: the first pass may have met it half-way
    for w in by_id.values():
        out.produce("md.windows", _resolved(w))
    out.flush()

    query = "SELECT window_id, our_outcome FROM windows WHERE window_id = ANY(%s) AND our_outcome IS NOT NULL"
    deadline = time.monotonic() + 60
    while len(_rows(url, query, ids)) < 3:
        assert time.monotonic() < deadline, "no outcomes from the flow"
        time.sleep(0.05)
    outcomes = dict(_rows(url, query, ids))
    assert outcomes == {whole.window_id: "UP", late.window_id: "NOT_OBSERVED", hole.window_id: "UNDECIDABLE"}
    found = _rows(url, "SELECT window_id, kind FROM window_discrepancies WHERE window_id = ANY(%s)", ids)
    assert found == [(hole.window_id, "undecidable")]
    alerts = _rows(
        url,
        "SELECT kind, severity FROM alerts WHERE dedupe_key = ANY(%s)",
        [f"window.undecidable:{i}" for i in ids],
    )
    assert alerts == [("window.undecidable", "WARNING")]
    rows = dict(_rows(url, "SELECT window_id, percent FROM feed_completeness WHERE window_id = ANY(%s)", ids))
    assert all(Decimal(0) < pct <= Decimal(100) for pct in rows.values()), rows
