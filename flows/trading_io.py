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
flushes after every batch; the intents sink first learns the ids already on `trade.intents` and
refuses each once, so a restarted flow (killed, even by SIGKILL), which rebuilds its windows from
the topics and may repeat a decision with the same id, never puts an intent out twice. This is the
live flow's restart guarantee instead of a Bytewax recovery store: the source keeps no offsets.
Window integrity and completeness go to PostgreSQL and ops.alerts (`flows.window_checks_io`).
`stop()` ends the inputs, so the flow finishes and the sinks flush.
"""

from __future__ import annotations

import contextlib
import threading
import time
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

from connectors.kafka import EventProducer, consumer_config, decode_message
from core.models import Alert, Event, OrderIntent
from core.serde import DecodeError, encode
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


LEARN_TIMEOUT_S = 30.0


def ids_on_topic(
    bootstrap: str,
    topic: str,
    kind: type[E],
    identity: Callable[[E], str],
    *,
    embedded: bool,
    client_config: dict[str, str] | None = None,
    timeout_s: float = LEARN_TIMEOUT_S,
) -> set[str]:
    """The identities of every `kind` event the broker still holds on `topic` (up to its end now).
    Raises if they cannot all be read within `timeout_s`: a flow that cannot tell what it already
    emitted does not start (it could put an intent out twice)."""
    config = consumer_config(bootstrap, "flow.trading.learn", embedded=embedded, client_config=client_config)
    consumer = Consumer(config)
    try:
        found = consumer.list_topics(topic, timeout=10).topics.get(topic)
        if found is None or found.error is not None:
            raise RuntimeError(f"output topic {topic} is missing on {bootstrap}")
        ends: dict[int, int] = {}
        for p in sorted(found.partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if high > low:
                ends[p] = high
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in ends])
        seen: set[str] = set()
        deadline = time.monotonic() + timeout_s
        while ends:
            if time.monotonic() > deadline:
                raise RuntimeError(f"could not read {topic} to its end within {timeout_s} s: {sorted(ends)}")
            for msg in consumer.consume(1000, 0.1):
                if msg.error() is None and msg.value() is not None:
                    with contextlib.suppress(DecodeError):  # a bad value carries no id of ours
                        event = decode_message(msg)
                        if isinstance(event, kind):
                            seen.add(identity(event))
            for tp in consumer.position([TopicPartition(topic, p) for p in list(ends)]):
                if tp.offset >= ends[tp.partition]:
                    del ends[tp.partition]
        return seen
    finally:
        consumer.close()


class _EventSinkPartition(StatelessSinkPartition[E], Generic[E]):
    def __init__(
        self, producer: EventProducer, topic: str, identity: Callable[[E], str] | None, refuse: set[str]
    ) -> None:
        self._producer = producer
        self._topic = topic
        self._identity = identity
        self._refuse = refuse

    def write_batch(self, items: list[E]) -> None:
        for event in items:
            if self._identity is not None and self._refuse:
                key = self._identity(event)
                if key in self._refuse:  # already on the topic from before a restart: once is enough
                    self._refuse.discard(key)
                    log.info("flow.output_refused", topic=self._topic, id=key)
                    continue
            self._producer.produce(self._topic, event)
        self._producer.flush()

    def close(self) -> None:
        self._producer.flush()


class EventSink(DynamicSink[E], Generic[E]):
    """Core events onto one declared topic (key from the topic spec); a failed delivery raises.

    With `kind` and `identity`, each partition first learns the identities already on the topic
    (`ids_on_topic`) and refuses each of those once when the flow emits it again: a restarted flow
    (killed, or resumed from a Bytewax snapshot) repeats decisions it had already published, with
    the same ids. The set only shrinks (a run emits an identity once)."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        client_config: dict[str, str] | None = None,
        *,
        kind: type[E] | None = None,
        identity: Callable[[E], str] | None = None,
        embedded: bool = False,
    ) -> None:
        self._kind = kind
        self._bootstrap = bootstrap
        self._topic = topic
        self._client_config = client_config or {}
        self._identity = identity
        self._embedded = embedded

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _EventSinkPartition[E]:
        refuse: set[str] = set()
        if self._identity is not None and self._kind is not None:
            refuse = ids_on_topic(
                self._bootstrap,
                self._topic,
                self._kind,
                self._identity,
                embedded=self._embedded,
                client_config=self._client_config,
            )
        producer = EventProducer(self._bootstrap, self._client_config)
        return _EventSinkPartition(producer, self._topic, self._identity, refuse)


def _intent_id(intent: OrderIntent) -> str:
    return str(intent.client_order_id)


def kafka_sinks(
    bootstrap: str, client_config: dict[str, str] | None = None, *, embedded: bool = False
) -> TradingSinks:
    """The flow's outputs on Kafka; intents refuse ids already on trade.intents (signals, rejections
    and quarantine entries may repeat after a restart: they carry their ids for readers to de-dup)."""
    return TradingSinks(
        signals=EventSink(bootstrap, "trade.signals", client_config),
        intents=EventSink(
            bootstrap,
            "trade.intents",
            client_config,
            kind=OrderIntent,
            identity=_intent_id,
            embedded=embedded,
        ),
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
    sinks = kafka_sinks(cfg.bootstrap, cfg.client_config, embedded=cfg.embedded)
    return build_flow(source, replace(sinks, checks=checks), settings)
