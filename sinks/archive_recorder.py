"""The recorder: consumes every `md.*` topic in batches and archives each record as received.

Offsets are committed only up to what `ArchiveWriter.committable()` says is on disk (STYLE habit 9).
The consumer must run with `auto.offset.reset=error`: the broker may have dropped records we never
archived (the embedded one keeps ~5 MB per partition), and the only honest response is to say so
(a count, an error log naming topic, partition and the lost offsets, an `ops.alerts` Alert), then
carry on from the oldest record still there. A group's first start (no committed offset) is not a
loss: it begins at the earliest record, or at the current end when asked (tests, a fresh archive).

Broker outages and rebalances are normal life, not crashes: a commit that fails (coordinator away,
a rebalance under way, a generation that moved on) is counted and retried with the next commit;
what it covered is already on disk, so at worst another member or a restart reads it again and the
reader drops the copy. Only an error librdkafka calls fatal stops the recorder.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Literal, TypeVar

from confluent_kafka import OFFSET_INVALID, Consumer, KafkaError, KafkaException, Message, TopicPartition

from core.archive_alerts import broker_reset_alert, offsets_lost_alert
from core.models import Alert
from core.serde import DecodeError, decode
from core.timestamps import from_ms
from sinks.archive import ArchiveRow, ArchiveWriter
from sinks.archive_state import load_state, save_state

log = logging.getLogger(__name__)

Start = Literal["earliest", "end"]
_T = TypeVar("_T")
_WATERMARK_TIMEOUT_S = 10.0
_BROKER_ATTEMPTS = 12  # a partition assignment asks the broker this many times (~2 min) before giving up


@dataclass
class RecorderStats:
    """Counters a health check or a test reads; `lost_records` is the sum of every lost range."""

    archived: int = 0
    malformed: int = 0
    loss_events: int = 0
    lost_records: int = 0
    commits: int = 0
    commit_failures: int = 0
    revocations: int = 0  # rebalances that took partitions away (another member joined or left)
    consumer_errors: int = 0


def to_row(msg: Message, decode_fn: Callable[[str, bytes], Any] = decode) -> ArchiveRow:
    """A consumed record as an archive row; a value that does not decode keeps its bytes and the reason."""
    topic, value = msg.topic() or "", msg.value() or b""
    ts_type, ts_ms = msg.timestamp()
    kafka_ts = from_ms(ts_ms) if ts_type != 0 and ts_ms >= 0 else None
    try:
        event = decode_fn(topic, value)
    except DecodeError as exc:
        return ArchiveRow(
            topic,
            msg.partition() or 0,
            msg.offset() or 0,
            msg.key(),
            value,
            None,
            None,
            None,
            kafka_ts,
            str(exc),
        )
    return ArchiveRow(
        topic,
        msg.partition() or 0,
        msg.offset() or 0,
        msg.key(),
        value,
        getattr(event, "kind", None),
        getattr(event, "source_ts", None),
        getattr(event, "recv_ts", None),
        kafka_ts,
        source_id=getattr(event, "source_id", None),
    )


class Recorder:
    """Runs the consume → buffer → roll → commit loop; `step()` is one batch, `run()` loops until stopped."""

    def __init__(
        self,
        consumer: Consumer,
        topics: list[str],
        writer: ArchiveWriter,
        alert: Callable[[Alert], None],
        *,
        start: Start = "earliest",
        batch_size: int = 1000,
        poll_timeout_s: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.consumer, self.writer, self.alert = consumer, writer, alert
        self.start, self.batch_size, self.poll_timeout_s = start, batch_size, poll_timeout_s
        self.clock, self.wall = clock, wall
        self.stats = RecorderStats()
        self._committed: dict[tuple[str, int], int] = {}
        self._position: dict[tuple[str, int], int] = {}  # next offset to read, per owned partition
        self._state = load_state(writer.archive_dir)
        consumer.subscribe(topics, on_assign=self._on_assign, on_revoke=self._on_revoke)

    def _ask(self, call: Callable[[], _T]) -> _T:
        """A broker question asked during an assignment, retried through an outage (a raise here
        would escape `consume` and stop the recorder)."""
        for attempt in range(_BROKER_ATTEMPTS):
            try:
                return call()
            except KafkaException as exc:
                if exc.args[0].fatal() or attempt == _BROKER_ATTEMPTS - 1:
                    raise
                self.stats.consumer_errors += 1
                log.warning("broker did not answer during assignment (%s); asking again", exc.args[0])
        raise AssertionError("unreachable")

    @staticmethod
    def _watermarks(consumer: Consumer, tp: TopicPartition) -> tuple[int, int]:
        low, high = consumer.get_watermark_offsets(tp, timeout=_WATERMARK_TIMEOUT_S, cached=False)
        return low, high

    def _log_reset(self, consumer: Consumer, topic: str, partition: int, ours: int, end: int) -> None:
        """Our offset is past the broker's end: its log was reset under us. A new cluster id is the
        broker_reset alert; the same one means the log was truncated (we archived those offsets, new
        records will reuse them and the reader tells them apart by their Kafka time)."""
        if not self._check_broker(consumer):
            log.warning(
                "%s[%d]: our offset %d is past the broker's end %d: its log was truncated",
                topic,
                partition,
                ours,
                end,
            )

    def _check_broker(self, consumer: Consumer) -> bool:
        """A cluster id other than the one the archive was recorded from: the broker's log was reset,
        and whatever it held that we had not archived is gone. Say where the hole starts; True then."""
        cluster = self._ask(lambda: consumer.list_topics(timeout=_WATERMARK_TIMEOUT_S).cluster_id)
        known = self._state.cluster_id
        if known is not None and cluster != known:
            self._loss(broker_reset_alert(known, cluster, self._state.newest, self.wall()))
        if cluster == known:
            return False
        self._state.cluster_id = cluster
        save_state(self.writer.archive_dir, self._state)
        return known is not None

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._check_broker(consumer)
        committed = self._ask(lambda: consumer.committed(partitions, timeout=_WATERMARK_TIMEOUT_S))
        for tp in committed:
            low, high = self._ask(partial(self._watermarks, consumer, tp))
            if tp.offset == OFFSET_INVALID or tp.offset < 0:
                tp.offset = low if self.start == "earliest" else high
            elif tp.offset < low:
                self._lost(tp.topic, tp.partition, tp.offset, low, "committed offset no longer on the broker")
                tp.offset = low
            elif tp.offset > high:
                self._log_reset(consumer, tp.topic, tp.partition, tp.offset, high)
                tp.offset = low
            self._committed[(tp.topic, tp.partition)] = tp.offset
            self._position[(tp.topic, tp.partition)] = tp.offset
        consumer.assign(committed)

    @property
    def assigned(self) -> set[tuple[str, int]]:
        """The (topic, partition) pairs this recorder owns now."""
        return set(self._position)

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.stats.revocations += 1
        self.writer.close_all()
        self._commit()
        gone = [(tp.topic, tp.partition) for tp in partitions]
        self.writer.forget(gone)
        for key in gone:
            self._position.pop(key, None)
            self._committed.pop(key, None)
        consumer.unassign()

    def _lost(self, topic: str, partition: int, first: int, end: int, why: str) -> None:
        """Say loudly that offsets [first, end) of a partition will never be archived."""
        self.stats.lost_records += max(end - first, 0)
        self._loss(offsets_lost_alert(topic, partition, first, end, why, self.wall()))

    def _loss(self, alert: Alert) -> None:
        """One loss event: counted, logged, and raised (the `alerts` table gets it via `sink`)."""
        self.stats.loss_events += 1
        log.error(alert.message)
        self.alert(alert)

    def _offset_reset(self, msg: Message) -> None:
        """The fetch position left the broker's log while running. A new cluster id: the log itself
        was reset (a broker restarted empty; asked first, as new records may already sit where our
        position was). Below the low watermark: the broker dropped records before we read them
        (report the range). Beyond the end: the log was truncated. Either way, jump to low.

        librdkafka refuses `seek` on a partition in this error state, so the whole assignment is
        assigned again at the positions this recorder has reached (prefetched records are fetched again).
        """
        topic, partition = msg.topic(), msg.partition()
        if topic is None or partition is None:
            raise KafkaException(msg.error())
        tp = TopicPartition(topic, partition)
        low, high = self.consumer.get_watermark_offsets(tp, timeout=_WATERMARK_TIMEOUT_S, cached=False)
        failed_at = msg.offset()
        first = failed_at if failed_at is not None and failed_at >= 0 else self._position[(topic, partition)]
        if self._check_broker(self.consumer):
            pass  # a new log under us (new cluster id): reported, read the new log from its start
        elif first > high:
            self._log_reset(self.consumer, topic, partition, first, high)
        else:
            self._lost(topic, partition, first, low, "dropped by the broker before it was read")
        self._position[(topic, partition)] = low
        self.consumer.assign([TopicPartition(t, p, o) for (t, p), o in self._position.items()])

    def step(self) -> int:
        """Consume one batch, archive it, roll due parts and commit what is durable; returns records read."""
        messages = self.consumer.consume(num_messages=self.batch_size, timeout=self.poll_timeout_s)
        now, wall = self.clock(), self.wall()
        read, rolled = 0, False
        for msg in messages:
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._AUTO_OFFSET_RESET:
                    self._offset_reset(msg)
                elif err.code() == KafkaError._PARTITION_EOF:
                    continue
                elif err.fatal():
                    raise KafkaException(err)
                else:  # transport errors, a broker down: librdkafka reconnects by itself
                    self.stats.consumer_errors += 1
                    log.warning("consumer error: %s", err)
                continue
            row = to_row(msg)
            self._position[(row.topic, row.partition)] = row.offset + 1
            if row.decode_error is not None:
                self.stats.malformed += 1
            rolled = self.writer.add(row, now, wall) or rolled
            read += 1
        self.stats.archived += read
        if self.writer.roll_due(now) or rolled:
            self._commit()
        return read

    def _commit(self) -> None:
        ahead = [
            TopicPartition(topic, partition, offset)
            for (topic, partition), offset in self.writer.committable().items()
            if offset > self._committed.get((topic, partition), -1) and (topic, partition) in self._position
        ]
        if not ahead:
            return
        try:
            self.consumer.commit(offsets=ahead, asynchronous=False)
        except KafkaException as exc:
            error = exc.args[0]
            if error.fatal():
                raise
            self.stats.commit_failures += 1
            log.warning("offset commit failed (%s); the next commit covers it", error)
            return
        self.stats.commits += 1
        for tp in ahead:
            self._committed[(tp.topic, tp.partition)] = tp.offset
        self._state.newest.update(self.writer.newest_written)
        save_state(self.writer.archive_dir, self._state)

    def close(self) -> None:
        """Graceful stop: every buffer becomes a part, offsets are committed (when the broker
        answers), the consumer leaves. Never raises for a broker that is away."""
        self.writer.close_all()
        self._commit()
        try:
            self.consumer.close()
        except KafkaException as exc:
            log.warning("consumer close failed (%s); the group expires the member by itself", exc.args[0])

    def run(self, should_stop: Callable[[], bool]) -> None:
        try:
            while not should_stop():
                self.step()
        finally:
            self.close()
