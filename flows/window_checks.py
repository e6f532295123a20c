"""Window integrity and completeness in the trading flow: wiring only, decisions in `core.window_checks`.

`add_window_checks` hangs two steps off the trading flow:
- `window_checks`, keyed by window like the trading state and fed the same routed items, so a
  window is checked from exactly what it saw and before its state is dropped (the router's
  resolution and expiry are what drop both): completeness rows and, at resolution, a verdict;
- `coverage`, keyed by the stream a rule reads, fed every decoded md.oracle print and hourly candle:
  it remembers the first print the flow saw and turns each verdict into the final result
  (NOT_OBSERVED for a window that started before that print).
Results and completeness rows go to `WindowCheckSinks.checks` (PostgreSQL live, see
`flows.window_checks_io`), alerts to `WindowCheckSinks.alerts` (ops.alerts). Without sinks (replay)
nothing is added to the flow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import bytewax.operators as op
from bytewax.outputs import Sink

from core.models import Alert, OracleTick
from core.timestamps import to_ms
from core.window_checks import (
    CheckOutput,
    CompletenessRow,
    Coverage,
    IntegrityResult,
    WindowVerdict,
    judge,
    step,
    tick_coverage_key,
)
from core.window_state import CandleOpen

__all__ = ["WindowCheckSinks", "add_window_checks"]

Print = tuple[str, int]  # (coverage key, observation ms)


@dataclass(frozen=True)
class WindowCheckSinks:
    checks: Sink[CheckOutput]
    alerts: Sink[Alert]


def _print_of(item: tuple[Any, Any]) -> tuple[str, Print] | None:
    event = item[1]
    if not isinstance(event, OracleTick | CandleOpen):
        return None
    key = tick_coverage_key(event)
    ts = event.source_ts if isinstance(event, OracleTick) else event.open_ts
    return None if key is None else (key, (key, to_ms(ts)))


def _cover(state: Coverage | None, item: Print | WindowVerdict) -> tuple[Coverage, IntegrityResult | None]:
    state = state or Coverage()
    if isinstance(item, WindowVerdict):
        return state, state.judge(item)
    state.tick(item[1])
    return state, None


def _alerts(result: IntegrityResult) -> Iterable[Alert]:
    return result.alerts


def add_window_checks(decoded: Any, by_window: Any, sinks: WindowCheckSinks | None) -> None:
    """`decoded`: the flow's (record, event) stream; `by_window`: its (window id, routed item)
    keyed stream, the one the trading state steps on."""
    if sinks is None:
        return
    checked = op.stateful_map("window_checks", by_window, step)
    outputs = op.flat_map("window_check_outputs", checked, lambda kv: kv[1])
    rows = op.filter_map("completeness", outputs, lambda o: o if isinstance(o, CompletenessRow) else None)
    verdicts = op.filter_map("verdicts", outputs, lambda o: o if isinstance(o, WindowVerdict) else None)
    split = op.branch("verdicts_with_coverage", verdicts, lambda v: v.coverage is not None)
    covered: Any = split.trues
    uncovered: Any = split.falses

    prints = op.filter_map("coverage_prints", decoded, _print_of)
    judged = op.key_on("by_stream", covered, lambda v: str(v.coverage))
    results = op.stateful_map("coverage", op.merge("stream_items", prints, judged), _cover)
    final = op.filter_map("integrity", results, lambda kv: kv[1])
    direct = op.map("integrity_no_stream", uncovered, lambda v: judge(v, None))
    integrity = op.merge("integrity_results", final, direct)

    op.output("window_checks_out", op.merge("checks", rows, integrity), sinks.checks)
    op.output("window_alerts", op.flat_map("integrity_alerts", integrity, _alerts), sinks.alerts)
