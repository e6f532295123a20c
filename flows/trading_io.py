"""The trading flow on the real stack: Kafka and the `runtime_controls` table in, Kafka out.

Wiring only. `KafkaTradingSource` is one confluent-kafka consumer per Bytewax worker, assigned a
share of the input topics' partitions (no consumer group). `md.windows` and `ctl.controls` start at
the beginning, so the windows announced before a start are known; market data starts at the
broker's earliest by default, so each book is rebuilt from its last snapshot (a delta alone syncs
nothing), while the core refuses to decide on that backlog (`data_stale`: older than the controls). Worker 0 also reads the whole
`runtime_controls` table every `controls_every` (on a thread, off the market-data path) and feeds
it in as a `db.runtime_controls` record:
the core refuses to trade on controls older than one second, so a dead database means no orders,
never old ones. `EventSink` produces each output to its declared topic with its declared key and
flushes after every batch; window integrity and completeness go to PostgreSQL and ops.alerts
(`flows.window_checks_io`). `stop()` ends the inputs, so the flow finishes and the sinks flush.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Generic, Literal, TypeVar

import psycopg
import structlog
from bytewax.dataflow import Dataflow
from bytewax.inputs import DynamicSource, StatelessSourcePartition
from bytewax.outputs import DynamicSink, StatelessSinkPartition
from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, Message, TopicPartition

from connectors.kafka import EventProducer, consumer_config
from core.models import Alert, Event
from core.serde import encode
from flows.trading import CONTROLS_TABLE, RawRecord, TradingFlowSettings, TradingSinks, build_flow
from flows.window_checks_io import kafka_check_sinks
from sinks.postgres.trading_reads import read_controls

__all__ = ["EventSink", "KafkaInput", "KafkaTradingSource", "build_kafka_flow"]

log = structlog.get_logger(__name__)

MARKET_TOPICS = ("md.book", "md.trades", "md.oracle", "md.spot")
STATE_TOPICS = ("md.windows", "ctl.controls")
_IDLE_WAIT_S = 0.001  # the embedded broker answers a fetch every fetch.wait.max.ms (1 ms)

E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class KafkaInput:
    """Where the flow reads from and how."""

    bootstrap: str
    embedded: bool
    database_url: str
    client_config: dict[str, str] = field(default_factory=dict)
    market_data_start: Literal["earliest", "end"] = "earliest"
    batch_size: int = 1000
    controls_every: timedelta = timedelta(milliseconds=250)
    """Wall time between two reads of the table (shorter than the one-second staleness on the
    flow's clock, which may run faster than the wall: the simulator at speed)."""
    group_id: str = "flow.trading"


def _ts(msg: Message) -> datetime:
    _kind, ms = msg.timestamp()
    return datetime.fromtimestamp(max(ms, 0) / 1000, UTC)


def _assignment(consumer: Consumer, cfg: KafkaInput, worker: int, workers: int) -> list[TopicPartition]:
    """This worker's share of every input partition, in a fixed order."""
    metadata = consumer.list_topics(timeout=10)
    start = OFFSET_BEGINNING if cfg.market_data_start == "earliest" else OFFSET_END
    pairs: list[TopicPartition] = []
    for name in (*MARKET_TOPICS, *STATE_TOPICS):
        found = metadata.topics.get(name)
        if found is None or found.error is not None:
            raise RuntimeError(f"input topic {name} is missing on {cfg.bootstrap}")
        offset = start if name in MARKET_TOPICS else OFFSET_BEGINNING
        pairs.extend(TopicPartition(name, p, offset) for p in sorted(found.partitions))
    return [tp for i, tp in enumerate(pairs) if i % workers == worker]


class _ControlsReader:
    """Reads the table every `every` on a thread of its own, so a slow or absent database never holds
    up market data (decisions then fail closed on stale controls); the flow takes the latest read.
    A failed read is logged and counted, and the next one reconnects. `close` stops and joins it."""

    def __init__(self, database_url: str, every: timedelta, clock: Callable[[], datetime]) -> None:
        self._url = database_url
        self._every_s = every.total_seconds()
        self._clock = clock
        self._latest: RawRecord | None = None
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.failures = 0
        self._thread = threading.Thread(target=self._run, name="flow.controls", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn: psycopg.Connection | None = None
        while not self._stopped.is_set():
            now = self._clock()  # before the read: the snapshot is never younger than it says
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self._url, autocommit=True, connect_timeout=2)
                record = RawRecord(topic=CONTROLS_TABLE, value=encode(read_controls(conn, now)), recv_ts=now)
                with self._lock:
                    self._latest = record
            except Exception:  # any failure: no fresh controls, so no trades; keep trying
                self.failures += 1
                log.exception("flow.controls_read_failed", failures=self.failures)
                if conn is not None:
                    conn.close()
                conn = None
            self._stopped.wait(self._every_s)
        if conn is not None:
            conn.close()

    def take(self) -> RawRecord | None:
        """The latest read not yet taken."""
        with self._lock:
            record, self._latest = self._latest, None
        return record

    def close(self) -> None:
        self._stopped.set()
        self._thread.join(10)


class _KafkaPartition(StatelessSourcePartition[RawRecord]):
    def __init__(
        self,
        cfg: KafkaInput,
        worker: int,
        workers: int,
        stop: Callable[[], bool],
        clock: Callable[[], datetime],
    ) -> None:
        config = consumer_config(
            cfg.bootstrap, cfg.group_id, embedded=cfg.embedded, client_config=cfg.client_config
        )
        self._consumer = Consumer(config)
        self._consumer.assign(_assignment(self._consumer, cfg, worker, workers))
        self._cfg = cfg
        self._stop = stop
        self._clock = clock
        self._controls = _ControlsReader(cfg.database_url, cfg.controls_every, clock) if worker == 0 else None

    def next_batch(self) -> Iterable[RawRecord]:
        if self._stop():
            raise StopIteration
        out: list[RawRecord] = []
        record = self._controls.take() if self._controls is not None else None
        if record is not None:
            out.append(record)
        msgs = self._consumer.consume(self._cfg.batch_size, 0)
        if not msgs:  # wait at most one broker fetch, returning at the first message
            msgs = self._consumer.consume(1, _IDLE_WAIT_S)
        for msg in msgs:
            err = msg.error()
            if err is not None:
                if err.fatal():
                    raise RuntimeError(f"kafka consumer failed: {err}")
                log.warning("flow.kafka_error", error=str(err))
                continue
            topic, value = msg.topic(), msg.value()
            if topic is None or value is None:
                continue
            out.append(RawRecord(topic, value, _ts(msg), msg.partition(), msg.offset()))
        return out

    def close(self) -> None:
        self._consumer.close()
        if self._controls is not None:
            self._controls.close()


def _wall() -> datetime:
    return datetime.now(UTC)


class KafkaTradingSource(DynamicSource[RawRecord]):
    """Input topics (and, on worker 0, the controls table) as `RawRecord`s until `stop()`."""

    def __init__(
        self, cfg: KafkaInput, stop: Callable[[], bool], clock: Callable[[], datetime] = _wall
    ) -> None:
        self._cfg = cfg
        self._stop = stop
        self._clock = clock

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _KafkaPartition:
        return _KafkaPartition(self._cfg, worker_index, worker_count, self._stop, self._clock)


class _EventSinkPartition(StatelessSinkPartition[E], Generic[E]):
    def __init__(self, producer: EventProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    def write_batch(self, items: list[E]) -> None:
        for event in items:
            self._producer.produce(self._topic, event)
        self._producer.flush()

    def close(self) -> None:
        self._producer.flush()


class EventSink(DynamicSink[E], Generic[E]):
    """Core events onto one declared topic (key from the topic spec); a failed delivery raises."""

    def __init__(self, bootstrap: str, topic: str, client_config: dict[str, str] | None = None) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._client_config = client_config or {}

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _EventSinkPartition[E]:
        return _EventSinkPartition(EventProducer(self._bootstrap, self._client_config), self._topic)


def kafka_sinks(bootstrap: str, client_config: dict[str, str] | None = None) -> TradingSinks:
    return TradingSinks(
        signals=EventSink(bootstrap, "trade.signals", client_config),
        intents=EventSink(bootstrap, "trade.intents", client_config),
        rejections=EventSink(bootstrap, "trade.rejections", client_config),
        quarantine=EventSink(bootstrap, "ops.quarantine", client_config),
    )


def build_kafka_flow(
    cfg: KafkaInput,
    settings: TradingFlowSettings,
    stop: Callable[[], bool],
    clock: Callable[[], datetime] = _wall,
) -> Dataflow:
    """`flows.trading.build_flow` over Kafka and the controls table: what `polywindow flow` runs.
    `clock` stamps the table reads (the process's one clock)."""
    source = KafkaTradingSource(cfg, stop, clock)
    alerts: EventSink[Alert] = EventSink(cfg.bootstrap, "ops.alerts", cfg.client_config)
    checks = kafka_check_sinks(cfg.database_url, alerts)  # window integrity and completeness
    return build_flow(source, replace(kafka_sinks(cfg.bootstrap, cfg.client_config), checks=checks), settings)
