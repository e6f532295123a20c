"""The market connector against a real simulator, Kafka and PostgreSQL: the book rebuilt from
md.book equals the venue's after 10,000 random updates; a forced disconnect reconnects and leaves
exactly one feed_gaps row spanning the hole, with no duplicate events; malformed frames land in
ops.quarantine and the connector keeps going."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import psycopg
import pytest
from psycopg_pool import ConnectionPool

from connectors.clock import SystemClock
from connectors.kafka import EventProducer
from connectors.polymarket.market_ws import MarketChannel
from connectors.supervisor import Supervisor
from connectors.ws_runner import RunnerConfig, WsRunner
from core.backoff import Backoff
from core.enums import BookSide
from core.models import Alert, BookDelta, BookSnapshot, Quarantined
from core.orderbook import OrderBook
from infra import stack
from simulator.markets import SimMarket
from sinks.postgres.migrate import migrate
from sinks.postgres.ops import OpsWriter
from sinks.postgres.write_queue import WriteQueue
from tests.integration.feeds_harness import TopicTail, add_market, on_thread, wait_for, wait_quiet
from tests.integration.test_ops_outage import set_reachable
from tests.simulator.conftest import RunningSim, admin_token, fast_config, start_sim
from tests.simulator.test_ws_channels import random_flow

pytestmark = [pytest.mark.stack, pytest.mark.timeout(60)]


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    running, stop = start_sim(fast_config())
    try:
        yield running
    finally:
        stop()


@pytest.fixture
def ops(fresh_database: str) -> Iterator[tuple[OpsWriter, str]]:
    migrate(fresh_database)
    pool = ConnectionPool(fresh_database, min_size=1, max_size=4, open=True)
    try:
        yield OpsWriter(pool), fresh_database
    finally:
        pool.close()


@dataclass
class Connector:
    runner: WsRunner
    channel: MarketChannel
    producer: EventProducer


@dataclass
class Setup:
    sim: RunningSim
    market: SimMarket
    endpoints: stack.Endpoints
    feed: str

    @property
    def tokens(self) -> set[str]:
        return {self.market.up_token_id, self.market.down_token_id}

    def ours(self, event: Any) -> bool:
        return getattr(event, "token_id", None) in self.tokens


@pytest.fixture
def setup(sim: RunningSim, endpoints: stack.Endpoints) -> Setup:
    market = add_market(sim)
    for token in (market.up_token_id, market.down_token_id):
        sim.quote(token, "BUY", "0.45", "50")
        sim.quote(token, "SELL", "0.55", "50")
    return Setup(sim, market, endpoints, f"test.market.{uuid.uuid4().hex[:8]}")


def run_connector(s: Setup, store: OpsWriter | None, config: RunnerConfig, box: list[Connector]) -> Any:
    producer = EventProducer(s.endpoints.kafka_bootstrap)
    writes = None if store is None else WriteQueue().start()

    async def main() -> None:
        try:
            async with httpx.AsyncClient(base_url=s.sim.url) as clob:
                channel = MarketChannel(f"{s.sim.ws_url}/ws/market", clob, sorted(s.tokens), feed=s.feed)
                runner = WsRunner(
                    channel, producer, store, config, lambda: datetime.now(UTC), random.random, writes
                )
                box.append(Connector(runner, channel, producer))
                await runner.run()
        finally:
            if writes is not None:
                await asyncio.to_thread(writes.close)

    return on_thread(main)


FAST = RunnerConfig(
    ping_interval_s=1.0, silence_gap=timedelta(seconds=60), backoff=Backoff(base_s=0.05, cap_s=0.2)
)


def rebuild(events: list[Any], token: str) -> OrderBook:
    book = OrderBook(token)
    for event in events:
        if getattr(event, "token_id", None) != token:
            continue
        if isinstance(event, BookSnapshot):
            book.apply_snapshot(event)
        elif isinstance(event, BookDelta):
            book.apply_delta(event)
    return book


def venue_levels(sim: RunningSim, token: str) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
    body = httpx.get(f"{sim.url}/book", params={"token_id": token}, timeout=30).json()  # a loaded machine
    side = {s: {Decimal(lv["price"]): Decimal(lv["size"]) for lv in body[s]} for s in ("bids", "asks")}
    return side["bids"], side["asks"]


def assert_books_equal_venue(s: Setup, events: list[Any]) -> None:
    for token in s.tokens:
        book = rebuild(events, token)
        bids, asks = venue_levels(s.sim, token)
        assert book.levels(BookSide.BID) == bids
        assert book.levels(BookSide.ASK) == asks
        assert bids or asks


def source_ids(events: list[Any]) -> list[str]:
    return [e.source_id for e in events if e.source_id is not None]


def test_book_rebuilt_from_md_book_equals_the_venue_after_10000_random_updates(setup: Setup) -> None:
    tail = TopicTail(setup.endpoints.kafka_bootstrap, setup.endpoints.kafka_embedded, "md.book")
    box: list[Connector] = []
    with run_connector(setup, None, FAST, box):
        wait_for(lambda: bool(box) and box[0].runner.connected.is_set(), 10, "connect")
        setup.sim.call(random_flow, setup.sim.exchange, *sorted(setup.tokens), 10_000, 20261124)
        venue = {token: venue_levels(setup.sim, token) for token in setup.tokens}  # the flow is over

        def caught_up(events: list[Any]) -> bool:
            books = {t: rebuild(events, t) for t in setup.tokens}
            return all((b.levels(BookSide.BID), b.levels(BookSide.ASK)) == venue[t] for t, b in books.items())

        events = tail.read(setup.ours, caught_up, timeout_s=90)
    tail.close()
    assert sum(isinstance(e, BookDelta) for e in events) > 5_000
    assert_books_equal_venue(setup, events)
    assert len(source_ids(events)) == len(set(source_ids(events)))


def _gap_rows(conninfo: str, feed: str) -> list[tuple[datetime, datetime | None]]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT started_at, ended_at FROM feed_gaps WHERE feed = %s ORDER BY id", (feed,)
        ).fetchall()
    return [(r[0], r[1]) for r in rows]


def test_forced_disconnect_reconnects_with_one_gap_row_and_no_duplicates(
    setup: Setup, ops: tuple[OpsWriter, str]
) -> None:
    store, conninfo = ops
    tail = TopicTail(setup.endpoints.kafka_bootstrap, setup.endpoints.kafka_embedded, "md.book")
    up = setup.market.up_token_id
    box: list[Connector] = []
    with run_connector(setup, store, FAST, box):
        wait_for(lambda: bool(box) and box[0].runner.connected.is_set(), 10, "connect")
        setup.sim.admin("/faults", {"duplicate_price_change": True})
        for cents in (40, 41, 42):
            setup.sim.quote(up, "BUY", f"0.{cents}", "10")
        before = tail.read(setup.ours, lambda ev: sum(isinstance(e, BookDelta) for e in ev) >= 3, 10)
        wait_quiet(
            lambda: box[0].runner.counts["events"] + box[0].runner.counts["quarantined"],
            quiet_s=0.3,
            timeout_s=5,
        )
        assert box[0].runner.counts["duplicates"] >= 3
        last_before = max(e.recv_ts for e in tail.drain(setup.ours, quiet_s=0.3))
        cut = datetime.now(UTC)
        assert setup.sim.admin("/ws/disconnect", {"channel": "market"}).json()["closed"] >= 1
        wait_for(lambda: box[0].runner.counts["reconnects"] == 1, 10, "the disconnect to be seen")
        wait_for(box[0].runner.connected.is_set, 10, "reconnection")
        setup.sim.quote(up, "BUY", "0.43", "10")
        tail.read(setup.ours, lambda ev: any(e.recv_ts > cut and isinstance(e, BookDelta) for e in ev), 10)
        wait_for(
            lambda: (
                _gap_rows(conninfo, setup.feed)[-1:] != []
                and _gap_rows(conninfo, setup.feed)[-1][1] is not None
            ),
            10,
            "gap closed",
        )
        box[0].producer.flush()
    events = tail.drain(setup.ours, quiet_s=0.5)
    tail.close()
    first_after = min(e.recv_ts for e in events if e.recv_ts > cut)
    assert _gap_rows(conninfo, setup.feed) == [(last_before, first_after)]
    assert len(before) > 0 and len(source_ids(events)) == len(set(source_ids(events)))
    assert_books_equal_venue(setup, events)


def test_malformed_frames_are_quarantined_with_counts_and_an_alert_and_the_feed_goes_on(setup: Setup) -> None:
    quarantine = TopicTail(setup.endpoints.kafka_bootstrap, setup.endpoints.kafka_embedded, "ops.quarantine")
    alerts = TopicTail(setup.endpoints.kafka_bootstrap, setup.endpoints.kafka_embedded, "ops.alerts")
    book_tail = TopicTail(setup.endpoints.kafka_bootstrap, setup.endpoints.kafka_embedded, "md.book")
    up, down = setup.market.up_token_id, setup.market.down_token_id
    box: list[Connector] = []
    with run_connector(setup, None, FAST, box):
        wait_for(lambda: bool(box) and box[0].runner.connected.is_set(), 10, "connect")
        setup.sim.admin("/faults", {"malformed_frame_count": 3})
        for cents in (30, 31, 32, 33, 34):
            setup.sim.quote(up, "BUY", f"0.{cents}", "7")
        setup.sim.quote(down, "SELL", "0.80", "9")
        mine = quarantine.read(
            lambda q: isinstance(q, Quarantined) and q.source == setup.feed, lambda q: len(q) >= 3, 10
        )
        book_tail.read(
            setup.ours,
            lambda ev: any(getattr(e, "token_id", "") == down and isinstance(e, BookDelta) for e in ev),
            10,
        )
        wait_quiet(
            lambda: box[0].runner.counts["events"] + box[0].runner.counts["quarantined"],
            quiet_s=0.5,
            timeout_s=5,
        )
        counts = dict(box[0].runner.counts)
        box[0].producer.flush()
    events = book_tail.drain(setup.ours, quiet_s=0.5)
    quarantine.drain(lambda q: isinstance(q, Quarantined) and q.source == setup.feed, quiet_s=0.3)
    quarantine.close()
    book_tail.close()
    raised = alerts.read(
        lambda a: isinstance(a, Alert) and a.alert_kind == "feed.quarantined" and setup.feed in a.message,
        lambda found: len(found) >= 1,
        10,
    )
    alerts.close()
    assert "malformed JSON" in raised[0].message  # one alert for the burst, naming the reason
    assert len(mine) == 3 == counts["quarantined"]
    assert all(
        q.reason.startswith("malformed JSON") and q.raw.startswith(b'{"event_type":"book"') for q in mine
    )
    assert counts.get("reconnects", 0) == 0
    assert_books_equal_venue(setup, events)


def test_silence_longer_than_the_threshold_opens_one_gap_closed_by_the_next_tick(
    setup: Setup, ops: tuple[OpsWriter, str]
) -> None:
    store, conninfo = ops
    tail = TopicTail(setup.endpoints.kafka_bootstrap, setup.endpoints.kafka_embedded, "md.book")
    up = setup.market.up_token_id
    config = RunnerConfig(ping_interval_s=1.0, silence_gap=timedelta(seconds=0.5), backoff=Backoff(0.05, 0.2))
    box: list[Connector] = []
    with run_connector(setup, store, config, box):
        wait_for(lambda: bool(box) and box[0].runner.connected.is_set(), 10, "connect")
        setup.sim.quote(up, "BUY", "0.40", "10")
        tail.read(setup.ours, lambda ev: any(isinstance(e, BookDelta) for e in ev), 10)
        wait_for(lambda: len(_gap_rows(conninfo, setup.feed)) == 1, 5, "the silence gap")
        last_before = max(e.recv_ts for e in tail.events)
        setup.sim.quote(up, "BUY", "0.41", "10")
        wait_for(lambda: _gap_rows(conninfo, setup.feed)[0][1] is not None, 5, "the gap to close")
        box[0].producer.flush()
    events = tail.drain(setup.ours, quiet_s=0.5)
    tail.close()
    first_after = min(e.recv_ts for e in events if e.recv_ts > last_before)
    assert _gap_rows(conninfo, setup.feed) == [(last_before, first_after)]
    with psycopg.connect(conninfo) as conn:
        kinds = [r[0] for r in conn.execute("SELECT kind FROM alerts ORDER BY id").fetchall()]
    assert kinds == ["feed.gap", "feed.gap_closed"]


def test_the_socket_keeps_being_read_while_postgres_refuses_and_gap_rows_follow_in_order(
    setup: Setup, ops: tuple[OpsWriter, str]
) -> None:
    store, conninfo = ops  # the pool waits up to 30 s for a connection: a write awaited inline would stall
    tail = TopicTail(setup.endpoints.kafka_bootstrap, setup.endpoints.kafka_embedded, "md.book")
    up = setup.market.up_token_id
    box: list[Connector] = []
    with run_connector(setup, store, FAST, box):
        wait_for(lambda: bool(box) and box[0].runner.connected.is_set(), 10, "connect")
        setup.sim.quote(up, "BUY", "0.40", "10")
        tail.read(setup.ours, lambda ev: any(isinstance(e, BookDelta) for e in ev), 10)
        last_before = max(e.recv_ts for e in tail.drain(setup.ours, quiet_s=0.3))
        set_reachable(setup.endpoints.database_url, conninfo, False)
        try:
            cut = datetime.now(UTC)
            assert setup.sim.admin("/ws/disconnect", {"channel": "market"}).json()["closed"] >= 1
            wait_for(lambda: box[0].runner.counts["reconnects"] == 1, 10, "the disconnect to be seen")
            wait_for(box[0].runner.connected.is_set, 10, "reconnection while the database is away")
            for cents in (41, 42, 43):
                setup.sim.quote(up, "BUY", f"0.{cents}", "10")
            tail.read(
                setup.ours,
                lambda ev: sum(e.recv_ts > cut and isinstance(e, BookDelta) for e in ev) >= 3,
                10,
            )
        finally:
            set_reachable(setup.endpoints.database_url, conninfo, True)
        wait_for(
            lambda: [r[1] is not None for r in _gap_rows(conninfo, setup.feed)] == [True], 30, "the gap rows"
        )
        box[0].producer.flush()
    events = tail.drain(setup.ours, quiet_s=0.5)
    tail.close()
    first_after = min(e.recv_ts for e in events if e.recv_ts > cut)
    assert _gap_rows(conninfo, setup.feed) == [(last_before, first_after)]
    with psycopg.connect(conninfo) as conn:
        kinds = [r[0] for r in conn.execute("SELECT kind FROM alerts ORDER BY id").fetchall()]
    assert kinds == ["feed.gap", "feed.gap_closed"]


class BreaksOnce:
    """The real producer, except that one md.book produce raises: a bug of ours mid-session."""

    def __init__(self, producer: EventProducer) -> None:
        self.producer = producer
        self.armed = False

    def produce(self, topic_name: str, event: Any) -> None:
        if self.armed and topic_name == "md.book":
            self.armed = False
            raise RuntimeError("a bug while producing")
        self.producer.produce(topic_name, event)


def test_a_session_ended_by_a_crash_opens_a_gap_and_the_restart_is_counted_and_reported(
    setup: Setup, ops: tuple[OpsWriter, str]
) -> None:
    store, conninfo = ops
    producer = EventProducer(setup.endpoints.kafka_bootstrap)
    sink = BreaksOnce(producer)
    writes = WriteQueue().start()
    crashes: list[tuple[str, str, int]] = []
    box: list[WsRunner] = []

    async def main() -> None:
        clock = SystemClock()
        supervisor = Supervisor(clock, Backoff(base_s=0.05, cap_s=0.1), lambda *c: crashes.append(c))
        async with httpx.AsyncClient(base_url=setup.sim.url) as clob:
            channel = MarketChannel(
                f"{setup.sim.ws_url}/ws/market", clob, sorted(setup.tokens), feed=setup.feed
            )
            runner = WsRunner(channel, sink, store, FAST, clock, random.random, writes)
            box.append(runner)
            await supervisor.supervise("market", runner.run)

    up = setup.market.up_token_id
    try:
        with on_thread(main):
            wait_for(lambda: bool(box) and box[0].connected.is_set(), 10, "connect")
            sink.armed = True
            setup.sim.quote(up, "BUY", "0.40", "10")
            wait_for(lambda: len(crashes) == 1, 10, "the crash to be reported")
            wait_for(box[0].connected.is_set, 10, "the restarted session")
            setup.sim.quote(up, "BUY", "0.41", "10")
            wait_for(
                lambda: [r[1] is not None for r in _gap_rows(conninfo, setup.feed)] == [True],
                10,
                "the gap row",
            )
    finally:
        writes.close()
        producer.flush()
    [(task, error, count)] = crashes
    assert (task, count) == ("market", 1) and "a bug while producing" in error
    assert box[0].counts["crashes"] == 1
    with psycopg.connect(conninfo) as conn:
        [detail] = (
            conn.execute("SELECT detail FROM feed_gaps WHERE feed = %s", (setup.feed,)).fetchone() or []
        )
    assert detail.startswith("disconnected: crashed: RuntimeError: a bug while producing")


def test_a_feed_silent_while_the_venue_still_answers_ping_is_reconnected_and_resynced(setup: Setup) -> None:
    tail = TopicTail(setup.endpoints.kafka_bootstrap, setup.endpoints.kafka_embedded, "md.book")
    up = setup.market.up_token_id
    config = RunnerConfig(ping_interval_s=0.2, stale_after_s=1.0, backoff=Backoff(0.05, 0.2))
    box: list[Connector] = []
    with run_connector(setup, None, config, box):
        wait_for(lambda: bool(box) and box[0].runner.connected.is_set(), 10, "connect")
        setup.sim.admin("/faults", {"stall_market_s": 4})  # events dropped, PING still answered
        setup.sim.quote(up, "BUY", "0.44", "10")  # lost on the socket: only a resync can bring it
        wait_for(lambda: box[0].runner.counts["reconnects"] >= 1, 10, "a reconnect for data silence")
        wait_for(lambda: setup.sim.admin("/faults", {}).json()["market_stalled_for_s"] == 0, 10, "stall over")
        wait_for(box[0].runner.connected.is_set, 10, "the session after the stall")
        box[0].producer.flush()
    events = tail.drain(setup.ours, quiet_s=0.5)
    tail.close()
    assert_books_equal_venue(setup, events)


def test_a_429_on_resync_is_honoured_no_resync_before_its_retry_after(setup: Setup) -> None:
    setup.sim.admin("/faults", {"rate_limit_count": 2, "retry_after_s": 60})
    tail = TopicTail(setup.endpoints.kafka_bootstrap, setup.endpoints.kafka_embedded, "md.book")
    up = setup.market.up_token_id
    box: list[Connector] = []
    with run_connector(setup, None, FAST, box):
        wait_for(lambda: bool(box) and box[0].runner.connected.is_set(), 10, "connect")
        # The first token's REST resync met the 429; the second was not asked for within Retry-After,
        # so the venue's second 429 is still unused.
        headers = {"X-Admin-Token": admin_token()}
        left = httpx.get(f"{setup.sim.url}/_admin/faults", headers=headers).json()["rate_limit_count"]
        assert left == 1
        assert box[0].channel.counts["resync_failed"] == 1
        setup.sim.admin("/faults/reset")  # our own reads of the venue's book below are not limited
        setup.sim.quote(up, "BUY", "0.44", "10")  # the books come from the subscribe dump meanwhile
        venue = {token: venue_levels(setup.sim, token) for token in setup.tokens}

        def caught_up(events: list[Any]) -> bool:
            books = {t: rebuild(events, t) for t in setup.tokens}
            return all((b.levels(BookSide.BID), b.levels(BookSide.ASK)) == venue[t] for t, b in books.items())

        tail.read(setup.ours, caught_up, timeout_s=10)
        box[0].producer.flush()
    tail.close()


def test_failed_rest_resyncs_in_a_503_burst_are_counted_into_feed_stats(
    setup: Setup, ops: tuple[OpsWriter, str]
) -> None:
    store, conninfo = ops
    burst = {"http_error_count": 2, "http_error_status": 503, "http_error_paths": ["/book"]}
    setup.sim.admin("/faults", burst)  # both tokens' resyncs at connect meet a 503
    box: list[Connector] = []
    with run_connector(setup, store, FAST, box):
        wait_for(lambda: bool(box) and box[0].runner.connected.is_set(), 10, "connect")
        counts = box[0].runner.stats()
    store.record_feed_stats(setup.feed, datetime.now(UTC), counts, None)
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(
            "SELECT resyncs, resync_failed FROM feed_stats WHERE feed = %s", (setup.feed,)
        ).fetchone()
    assert row == (2, 2)
