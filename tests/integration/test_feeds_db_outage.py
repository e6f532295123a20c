"""`feeds` with PostgreSQL refusing connections: discovery goes on, the writer holds the window rows
in order and says so on ops.alerts (the database cannot take that alert), and every row arrives once
the database is back."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from core.models import Alert
from infra import stack
from polywindow.settings import FeedSettings
from polywindow.wiring import Feeds
from sinks.postgres.migrate import migrate
from tests.integration.feeds_harness import TopicTail, on_thread, synthetic_venue, wait_for
from tests.integration.test_ops_outage import set_reachable

pytestmark = [pytest.mark.stack, pytest.mark.timeout(60)]


@pytest.fixture
def venue() -> Iterator[str]:
    with synthetic_venue(assets=("btc",)) as running:
        yield running.address


def window_ids(database: str) -> set[str]:
    with psycopg.connect(database) as conn:
        return {r[0] for r in conn.execute("SELECT window_id FROM windows").fetchall()}


def test_window_rows_wait_out_an_outage_in_order_and_the_outage_is_alerted(
    venue: str, endpoints: stack.Endpoints, fresh_database: str
) -> None:
    migrate(fresh_database)
    alerts = TopicTail(endpoints.kafka_bootstrap, endpoints.kafka_embedded, "ops.alerts")
    settings = FeedSettings(
        clob_url=f"http://{venue}", gamma_url=f"http://{venue}/gamma", assets=["btc"], intervals_s=[300]
    )
    set_reachable(endpoints.database_url, fresh_database, False)
    feeds = Feeds(settings, endpoints.kafka_bootstrap, fresh_database, only={"gamma"})
    try:
        with on_thread(feeds.run):
            raised = alerts.read(
                lambda a: isinstance(a, Alert) and a.alert_kind == "db.write_retrying",
                lambda found: len(found) >= 1,
                30,
            )
            discovered = set(feeds.windows)
            assert discovered and feeds.writes.depth >= len(discovered)  # held, not dropped
            set_reachable(endpoints.database_url, fresh_database, True)
            wait_for(lambda: discovered <= window_ids(fresh_database), 30, "the held window rows")
    finally:
        set_reachable(endpoints.database_url, fresh_database, True)
        feeds.close()
        alerts.close()
    assert raised[0].message.startswith("database unavailable, writes held")
    assert feeds.writes.counts["overflow"] == 0
