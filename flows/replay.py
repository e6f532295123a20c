"""Backtests: an archived period replayed into the very trading flow that runs live.

Wiring only. `ArchiveSource` is one input partition reading the archive in receive-time order
(`sinks.archive_reader.read_archive`) and feeding the flow `RawRecord`s, exactly as the Kafka source
does live. The clock is event time: the backtest's fixed RUN controls (`core.backtest.ReplayControls`)
enter as table reads stamped with the events' own time, so they are never stale. Windows whose data
had a feed gap are left out (their `md.windows` records never reach the router, so nothing is
decided for them) unless `keep_gaps`, which keeps them and names them in the result. Outputs are
collected in memory; with several workers the same set comes out, in another order, so results are
sorted by (event time, id).

Restart: the source's snapshot is its `ReplayPosition` (events read, in the archive's fixed order),
so with a Bytewax recovery directory (`flows.running.RunPlan`) a killed replay resumes where its last
snapshot was taken; its outputs then go to `flows.durable` JSON-lines sinks (`out_dir`), which refuse
what the killed run had already written, and the result is read back from them.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Generic, TypeVar

from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition
from bytewax.outputs import DynamicSink, StatelessSinkPartition

from core.backtest import Gap, ReplayControls, controls_due, overlaps_gap
from core.models import IntentRejected, OrderIntent, Quarantined, Signal, WindowEvent
from core.serde import DecodeError, decode
from flows.durable import JsonLinesSink, read_parts
from flows.running import RunPlan, run_dataflow
from flows.trading import CONTROLS_TABLE, RawRecord, TradingFlowSettings, TradingSinks, build_flow
from sinks.archive_reader import ArchivedEvent

__all__ = [
    "REPLAY_TOPICS",
    "ArchiveSource",
    "ReplayInput",
    "ReplayPosition",
    "ReplayResult",
    "read_outputs",
    "replay",
]

REPLAY_TOPICS = ("md.book", "md.trades", "md.oracle", "md.spot", "md.windows")

T = TypeVar("T")


@dataclass(frozen=True)
class ReplayInput:
    """`events()` gives the archived period (a fresh iterator per call, so a replay can repeat)."""

    events: Callable[[], Iterable[ArchivedEvent]]
    controls: ReplayControls
    gaps: tuple[Gap, ...] = ()
    keep_gaps: bool = False
    batch_size: int = 1000


@dataclass
class ReplayResult:
    signals: list[Signal] = field(default_factory=list)
    intents: list[OrderIntent] = field(default_factory=list)
    rejections: list[IntentRejected] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)
    events: int = 0
    excluded_windows: set[str] = field(default_factory=set)
    gap_windows_kept: set[str] = field(default_factory=set)
    resumed_at: int = 0
    """Archived events a killed run had read before its last snapshot (0: a fresh run)."""

    def sort(self) -> None:
        self.signals.sort(key=lambda s: (s.event_ts, s.signal_id))
        self.intents.sort(key=lambda i: (i.event_ts, i.client_order_id))
        self.rejections.sort(key=lambda r: (r.event_ts, r.signal_id, r.rule))
        self.quarantined.sort(key=lambda q: (q.recv_ts, q.topic or "", q.reason))


@dataclass(frozen=True)
class ReplayPosition:
    """The archive source's snapshot: events read so far (the archive's order is fixed, so skipping
    that many resumes it), the last controls stamp, and the gap verdicts reached so far."""

    read: int = 0
    stated: datetime | None = None
    excluded: frozenset[str] = frozenset()
    kept: frozenset[str] = frozenset()


class _ArchivePartition(StatefulSourcePartition[RawRecord, ReplayPosition]):
    def __init__(self, inp: ReplayInput, result: ReplayResult, resume: ReplayPosition | None) -> None:
        self._inp = inp
        self._result = result
        self._events: Iterator[ArchivedEvent] = iter(inp.events())
        at = resume or ReplayPosition()
        if at.read:
            next(islice(self._events, at.read, at.read), None)  # skip what the killed run had read
            result.resumed_at = at.read
        self._stated: datetime | None = at.stated
        result.events = at.read
        result.excluded_windows |= at.excluded
        result.gap_windows_kept |= at.kept

    def _has_gap(self, event: ArchivedEvent) -> bool:
        try:
            window = decode(event.topic, event.value)
        except DecodeError:
            return False  # the flow quarantines it
        if not isinstance(window, WindowEvent) or not overlaps_gap(
            window.start_ts, window.end_ts, self._inp.gaps
        ):
            return False
        if self._inp.keep_gaps:
            self._result.gap_windows_kept.add(window.window_id)
            return False
        self._result.excluded_windows.add(window.window_id)
        return True

    def next_batch(self) -> list[RawRecord]:
        out: list[RawRecord] = []
        read = 0
        for event in islice(self._events, self._inp.batch_size):
            read += 1
            if controls_due(self._stated, event.recv_ts):
                self._stated = event.recv_ts
                controls = self._inp.controls.snapshot_json(event.recv_ts)
                out.append(RawRecord(CONTROLS_TABLE, controls, event.recv_ts))
            if event.topic == "md.windows" and self._inp.gaps and self._has_gap(event):
                continue
            out.append(RawRecord(event.topic, event.value, event.recv_ts))
        if read == 0:
            raise StopIteration
        self._result.events += read
        return out

    def snapshot(self) -> ReplayPosition:
        return ReplayPosition(
            self._result.events,
            self._stated,
            frozenset(self._result.excluded_windows),
            frozenset(self._result.gap_windows_kept),
        )


class ArchiveSource(FixedPartitionedSource[RawRecord, ReplayPosition]):
    """The archived period as one ordered input partition."""

    def __init__(self, inp: ReplayInput, result: ReplayResult) -> None:
        self._inp = inp
        self._result = result

    def list_parts(self) -> list[str]:
        return ["archive"]

    def build_part(
        self, step_id: str, for_part: str, resume_state: ReplayPosition | None
    ) -> _ArchivePartition:
        return _ArchivePartition(self._inp, self._result, resume_state)


class _ListPartition(StatelessSinkPartition[T], Generic[T]):
    def __init__(self, into: list[T], lock: threading.Lock) -> None:
        self._into = into
        self._lock = lock

    def write_batch(self, items: list[T]) -> None:
        with self._lock:
            self._into.extend(items)


class _ListSink(DynamicSink[T], Generic[T]):
    """Every worker appends to one list (workers are threads of this process)."""

    def __init__(self, into: list[T]) -> None:
        self._into = into
        self._lock = threading.Lock()

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _ListPartition[T]:
        return _ListPartition(self._into, self._lock)


REPLAY_GC_THRESHOLD = 50_000
"""A replay allocates ~200 short-lived objects per book (levels, Decimals) with a batch of them alive
at a time; the default gen-0 threshold (700) re-traced them so often that it halved the throughput
(bench/replay.py). A replay has no latency to protect, so it collects less often."""


@contextmanager
def _fewer_collections() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(REPLAY_GC_THRESHOLD, before[1], before[2])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _durable_sinks(out_dir: Path) -> TradingSinks:
    return TradingSinks(
        signals=JsonLinesSink(out_dir, "signals", Signal, lambda s: s.signal_id),
        intents=JsonLinesSink(out_dir, "intents", OrderIntent, lambda i: str(i.client_order_id)),
        rejections=JsonLinesSink(out_dir, "rejections", IntentRejected, lambda r: f"{r.signal_id}/{r.rule}"),
        quarantine=JsonLinesSink(out_dir, "quarantine", Quarantined, lambda q: q.model_dump_json()),
    )


def read_outputs(out_dir: Path, into: ReplayResult) -> None:
    """What a durable replay wrote (every worker's and every run's part), into `into`."""
    into.signals[:] = read_parts(out_dir, "signals", Signal)
    into.intents[:] = read_parts(out_dir, "intents", OrderIntent)
    into.rejections[:] = read_parts(out_dir, "rejections", IntentRejected)
    into.quarantined[:] = read_parts(out_dir, "quarantine", Quarantined)


def replay(
    inp: ReplayInput,
    settings: TradingFlowSettings,
    workers: int = 1,
    *,
    plan: RunPlan | None = None,
    out_dir: Path | None = None,
) -> ReplayResult:
    """Run the trading flow over the archived period; outputs sorted, gap windows named.

    With `out_dir` the outputs are JSON lines there (`flows.durable`), written once each even when a
    run killed mid-way is started again on the same `plan.recovery_dir` and resumes; the result is
    read back from them. `plan` (default: `workers` threads, one process) says how to run."""
    result = ReplayResult()
    if out_dir is None:
        sinks = TradingSinks(
            signals=_ListSink(result.signals),
            intents=_ListSink(result.intents),
            rejections=_ListSink(result.rejections),
            quarantine=_ListSink(result.quarantined),
        )
    else:
        sinks = _durable_sinks(out_dir)
    flow = build_flow(ArchiveSource(inp, result), sinks, settings)
    with _fewer_collections():
        run_dataflow(flow, plan or RunPlan(workers=workers))
    if out_dir is not None:
        read_outputs(out_dir, result)
    result.sort()
    return result
