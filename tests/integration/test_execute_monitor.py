"""The exit monitor of `polywindow execute` over Kafka: a window on md.windows and a book on md.book
that crosses the stop-loss close the position at once."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest

from connectors.kafka import EventProducer, new_consumer
from core.enums import TradingMode, WindowPhase
from core.ids import ConditionId, TokenId, WindowId
from core.models import BookSnapshot, Level, WindowEvent
from execution.exits import ExitManager
from execution.monitor import BookMonitor
from infra import stack
from polywindow.execution_wiring import build_manager
from tests.integration.execute_harness import intent_for, rows, venue_of
from tests.simulator.conftest import RunningSim

pytestmark = [pytest.mark.stack, pytest.mark.timeout(90)]
D = Decimal


def test_a_book_crossing_the_stop_on_md_book_closes_the_position(
    sim: RunningSim, fresh_database: str, endpoints: stack.Endpoints
) -> None:
    from sinks.postgres.migrate import migrate

    migrate(fresh_database)
    up = sim.market.up_token_id
    sim.quote(up, "SELL", "0.50", "100")
    sim.quote(up, "BUY", "0.45", "100")
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        manager = build_manager(TradingMode.LIVE, conn, venue=venue_of(sim))
        intent = intent_for(sim)
        assert manager.execute(intent).status == "FILLED"
        tag = uuid.uuid4().hex[:8]
        consumers = [
            new_consumer(
                endpoints.kafka_bootstrap,
                f"monitor-{topic}-{tag}",
                [topic],
                embedded=endpoints.kafka_embedded,
                client_config={"auto.offset.reset": "latest"},
            )
            for topic in ("md.windows", "md.book")
        ]
        monitor = BookMonitor(consumers, ExitManager(manager), manager.store.monitoring_tokens)
        producer = EventProducer(endpoints.kafka_bootstrap)
        m = sim.market
        deadline = time.monotonic() + 60
        try:
            while not monitor.exits:
                assert time.monotonic() < deadline, "no exit from the monitor"
                now = datetime.now(UTC)
                producer.produce(
                    "md.windows",
                    WindowEvent(
                        source_ts=now,
                        recv_ts=now,
                        phase=WindowPhase.OPEN,
                        window_id=WindowId(intent.window_id),
                        asset="btc",
                        interval_s=300,
                        condition_id=ConditionId(m.condition_id),
                        up_token_id=TokenId(up),
                        down_token_id=TokenId(m.down_token_id),
                        start_ts=m.start,
                        end_ts=m.end,
                    ),
                )
                producer.produce(
                    "md.book",
                    BookSnapshot(
                        source_ts=now,
                        recv_ts=now,
                        token_id=TokenId(up),
                        condition_id=ConditionId(m.condition_id),
                        bids=(Level(price=D("0.45"), size=D(100)),),
                        asks=(Level(price=D("0.50"), size=D(94)),),
                    ),
                )
                producer.flush()
                monitor.poll_once(0.2)
        finally:
            for c in consumers:
                c.close()
        assert [r.reason for r in monitor.exits] == ["STOP_LOSS"]
        assert rows(conn, "SELECT state, exit_reason FROM positions") == [("CLOSED", "STOP_LOSS")]
