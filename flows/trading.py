"""The trading flow: market data, windows and controls in; signals, intents and rejections out.

Wiring only; every decision is a `core` call:
decode (`core.serde`) -> route to windows (`core.routing.WindowRouter`, one routing state per router
bucket: a market's books and trades go to its bucket, everything else to all, `core.routing.route_keys`)
-> key by window -> `core.window_engine.step` per window (its state is dropped when the window
resolves or expires) -> split outputs by topic. Undecodable values and unusable control values
go to the quarantine sink with topic, partition, offset and reason. Window integrity and completeness
step on the same keyed items (`flows.window_checks`) when `TradingSinks.checks` is given.

`build_flow(source, sinks, settings)` takes any Bytewax source of `RawRecord`s: tests pass
`TestingSource`, production passes Kafka sources mapped to `RawRecord` (wiring not in this module).
Table reads of `runtime_controls` enter on the pseudo-topic `db.runtime_controls` as a
`ControlsSnapshot`, so the table and `ctl.controls` reach the flow the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import bytewax.operators as op
import structlog
from bytewax.dataflow import Dataflow
from bytewax.inputs import Source
from bytewax.outputs import Sink
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from core.models import Candle, ControlsSnapshot, IntentRejected, OrderIntent, Quarantined, Signal
from core.risk import RiskLimits
from core.routing import RouteResult, RouterInput, WindowInput, WindowRouter, route_keys
from core.serde import DecodeError, decode_compact
from core.strategies import build_strategy
from core.window_engine import Desk, step
from core.window_fault import FaultedWindow, after_fault, fault_report
from core.window_state import WindowState, candle_open
from flows.window_checks import WindowCheckSinks, add_window_checks

_log = structlog.get_logger(__name__)

__all__ = [
    "CONTROLS_TABLE",
    "INPUT_TOPICS",
    "RawRecord",
    "TradingFlowSettings",
    "TradingSinks",
    "build_flow",
    "candle_open",
    "decode_record",
]

CONTROLS_TABLE = "db.runtime_controls"
INPUT_TOPICS = ("md.book", "md.trades", "md.oracle", "md.spot", "md.windows", "ctl.controls", CONTROLS_TABLE)
_SOURCE = "flow.trading"
_SNAPSHOT = TypeAdapter(ControlsSnapshot)


@dataclass(frozen=True)
class RawRecord:
    """One input value as it came off its topic (or the controls table)."""

    topic: str
    value: bytes
    recv_ts: datetime
    partition: int | None = None
    offset: int | None = None


@dataclass(frozen=True)
class TradingSinks:
    signals: Sink[Signal]
    intents: Sink[OrderIntent]
    rejections: Sink[IntentRejected]
    quarantine: Sink[Quarantined]
    checks: WindowCheckSinks | None = None  # window integrity and completeness (None: not computed)


class TradingFlowSettings(BaseModel):
    """What the composition root passes: strategies by name with their parameters, and limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    flow_id: str = "trading"
    strategies: Mapping[str, Mapping[str, Any]] = Field(default_factory=lambda: {"canary": {}})
    min_time_left_s: int = Field(default=10, ge=0)
    max_daily_drawdown_usd: Decimal = Field(default=Decimal(50), ge=0)
    max_staleness_ms: int = Field(default=1000, gt=0)
    retain_after_end_s: int = Field(default=3600, gt=0)
    route_buckets: int = Field(default=1, ge=1, le=1024)
    """Router keys: as many as workers spreads the routing; results do not depend on it. Each bucket
    applies every controls read and window announcement, so more buckets than workers only costs.
    A recovery store is tied to it (its routers' state is per bucket)."""


def _quarantine(record: RawRecord, reason: str) -> Quarantined:
    return Quarantined(
        source=_SOURCE,
        reason=reason,
        raw=record.value,
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        recv_ts=record.recv_ts,
    )


def decode_record(record: RawRecord) -> tuple[RawRecord, RouterInput] | Quarantined:
    """A record's event, or its quarantine entry (unknown topic, bad JSON, bad shape)."""
    try:
        if record.topic == CONTROLS_TABLE:
            return record, _SNAPSHOT.validate_json(record.value)
        if record.topic not in INPUT_TOPICS:
            return _quarantine(record, f"topic {record.topic!r} is not an input of the trading flow")
        event = decode_compact(record.topic, record.value)
    except (DecodeError, ValidationError) as exc:
        return _quarantine(record, f"undecodable: {exc}")
    if isinstance(event, Candle):
        return record, candle_open(event)
    return record, event


Bucketed = tuple[int, RawRecord, RouterInput]


def _to_buckets(item: tuple[RawRecord, RouterInput], buckets: int) -> list[tuple[str, Bucketed]]:
    record, event = item
    return [(str(b), (b, record, event)) for b in route_keys(event, buckets)]


def _route(
    router: WindowRouter | None, item: Bucketed, retain_s: int, buckets: int
) -> tuple[WindowRouter, tuple[RawRecord, RouteResult]]:
    bucket, record, event = item
    router = router or WindowRouter(timedelta(seconds=retain_s), bucket, buckets)
    return router, (record, router.route(event))


def _problem(item: tuple[str, tuple[RawRecord, RouteResult]]) -> Quarantined | None:
    record, result = item[1]
    return None if result.problem is None else _quarantine(record, result.problem)


def _fan_out(item: tuple[str, tuple[RawRecord, RouteResult]]) -> Iterable[tuple[str, WindowInput]]:
    return [(str(window_id), routed) for window_id, routed in item[1][1].routed]


WindowSlot = WindowState | FaultedWindow


def window_step(
    state: WindowSlot | None, item: WindowInput, desk: Desk
) -> tuple[WindowSlot | None, list[Any]]:
    """`core.window_engine.step`, isolated per window: a step that raises faults that window only
    (core.window_fault) instead of stopping the flow for every window."""
    if isinstance(state, FaultedWindow):
        return after_fault(state, item), []
    try:
        return step(state, item, desk)
    except Exception as exc:
        window_id = state.window_id if state is not None else str(getattr(item, "window_id", "?"))
        fault, entry = fault_report(window_id, item, exc)
        _log.error("trading.window_faulted", window_id=window_id, reason=fault.reason)
        return fault, [entry]


def make_desk(settings: TradingFlowSettings) -> Desk:
    strategies = tuple(build_strategy(name, params) for name, params in settings.strategies.items())
    limits = RiskLimits(
        min_time_left=timedelta(seconds=settings.min_time_left_s),
        max_daily_drawdown_usd=settings.max_daily_drawdown_usd,
        max_staleness=timedelta(milliseconds=settings.max_staleness_ms),
    )
    return Desk(strategies=strategies, limits=limits)


def build_flow(source: Source[RawRecord], sinks: TradingSinks, settings: TradingFlowSettings) -> Dataflow:
    desk = make_desk(settings)
    flow = Dataflow(settings.flow_id)
    raw = op.input("in", flow, source)
    decoded = op.map("decode", raw, decode_record)
    split = op.branch("undecodable", decoded, lambda x: isinstance(x, Quarantined))
    bad: Any = split.trues
    good: Any = split.falses

    retain_s, buckets = settings.retain_after_end_s, settings.route_buckets
    keyed = op.flat_map("to_router_buckets", good, lambda item: _to_buckets(item, buckets))
    routed = op.stateful_map("route", keyed, lambda r, item: _route(r, item, retain_s, buckets))
    problems = op.filter_map("route_problems", routed, _problem)

    items = op.flat_map("fan_out", routed, _fan_out)
    by_window = op.key_on("by_window", items, lambda pair: pair[0])
    values = op.map_value("window_input", by_window, lambda pair: pair[1])

    def isolated_step(state: WindowSlot | None, item: WindowInput) -> tuple[WindowSlot | None, list[Any]]:
        return window_step(state, item, desk)

    outputs: Any = op.stateful_map("window", values, isolated_step)  # type: ignore[misc]  # S is a union
    add_window_checks(good, values, sinks.checks)
    flat = op.flat_map("outputs", outputs, lambda kv: kv[1])
    faults = op.filter_map("window_faults", flat, lambda o: o if isinstance(o, Quarantined) else None)
    signals = op.filter_map("signals", flat, lambda o: o if isinstance(o, Signal) else None)
    intents = op.filter_map("intents", flat, lambda o: o if isinstance(o, OrderIntent) else None)
    rejections = op.filter_map("rejections", flat, lambda o: o if isinstance(o, IntentRejected) else None)

    op.output("trade_signals", signals, sinks.signals)
    op.output("trade_intents", intents, sinks.intents)
    op.output("trade_rejections", rejections, sinks.rejections)
    op.output("ops_quarantine", op.merge("quarantined", bad, problems, faults), sinks.quarantine)
    return flow
