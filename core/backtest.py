"""What a backtest decides besides the trading itself: which windows a replay may judge (not those
whose data had a feed gap), the fixed RUN controls it trades under (stamped with event time, so a
replay is never refused as stale), and the per-strategy summary it prints. Pure: times are passed in.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cached_property

from core.enums import ControlName, KillSwitch, TradingMode
from core.models import ControlChange, ControlsSnapshot, IntentRejected, OrderIntent, Signal

__all__ = [
    "ASSETS",
    "CONTROLS_EVERY",
    "INTERVALS",
    "Gap",
    "ReplayControls",
    "StrategySummary",
    "all_instruments",
    "controls_due",
    "overlaps_gap",
    "summarize",
]

Gap = tuple[datetime, datetime | None]
"""A feed gap: started, ended (None: never closed)."""

CONTROLS_EVERY = timedelta(milliseconds=250)
"""How often (event time) a replay restates its controls; well inside the one-second staleness."""
ASSETS = ("btc", "eth", "sol", "xrp")
INTERVALS = ("5m", "15m", "1h", "4h")


def all_instruments() -> frozenset[str]:
    return frozenset(f"{a}-{i}" for a in ASSETS for i in INTERVALS)


def overlaps_gap(start: datetime, end: datetime, gaps: Iterable[Gap]) -> bool:
    """Whether any gap overlaps the window [start, end): its data is incomplete."""
    return any(g_start < end and (g_end is None or g_end > start) for g_start, g_end in gaps)


def controls_due(last: datetime | None, at: datetime) -> bool:
    """Whether the controls, last stated at `last`, must be restated before an event at `at`."""
    return last is None or at - last >= CONTROLS_EVERY


@dataclass(frozen=True)
class ReplayControls:
    """The fixed controls of a backtest: RUN, BACKTEST, the given allow-lists and limits."""

    instruments: frozenset[str]
    strategies: frozenset[str]
    max_position_usd: Decimal = Decimal(5)
    max_session_loss_usd: Decimal = Decimal(25)

    def snapshot(self, at: datetime) -> ControlsSnapshot:
        """The controls as a table read at event time `at` (the rows' own time: the first event)."""
        texts = {
            ControlName.KILL_SWITCH: KillSwitch.RUN.value,
            ControlName.TRADING_MODE: TradingMode.BACKTEST.value,
            ControlName.MAX_POSITION_USD: str(self.max_position_usd),
            ControlName.MAX_SESSION_LOSS_USD: str(self.max_session_loss_usd),
            ControlName.ALLOWED_INSTRUMENTS: json.dumps(sorted(self.instruments)),
            ControlName.ALLOWED_STRATEGIES: json.dumps(sorted(self.strategies)),
        }
        rows = tuple(
            ControlChange(name=n, value=v, updated_by="replay", updated_at=at) for n, v in texts.items()
        )
        return ControlsSnapshot(rows=rows, read_at=at)

    def snapshot_json(self, at: datetime) -> bytes:
        """`snapshot(at)` as `core.serde.encode` writes it, without building the models each time
        (a replay restates its controls before most events): the one encoding, times substituted."""
        return self._template.replace(_PLACEHOLDER, json_time(at).encode())

    @cached_property
    def _template(self) -> bytes:
        return self.snapshot(_SENTINEL).model_dump_json().encode()


_SENTINEL = datetime(1971, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
_PLACEHOLDER = b'"1971-02-03T04:05:06.789012Z"'


def json_time(at: datetime) -> str:
    """An aware time as pydantic writes it in JSON: `"2026-09-28T08:00:00.005000Z"`, no fraction
    when whole seconds (quotes included)."""
    return f'"{at.astimezone(UTC).replace(tzinfo=None).isoformat()}Z"'


@dataclass
class StrategySummary:
    strategy: str
    signals: int = 0
    intents: int = 0
    rejections: Counter[str] = field(default_factory=Counter)
    intents_in_gap_windows: int = 0


def summarize(
    signals: Sequence[Signal],
    intents: Sequence[OrderIntent],
    rejections: Sequence[IntentRejected],
    gap_windows: frozenset[str] = frozenset(),
) -> list[StrategySummary]:
    """Signals, intents and rejections by rule, per strategy, sorted by strategy name."""
    table: dict[str, StrategySummary] = {}

    def row(name: str) -> StrategySummary:
        return table.setdefault(name, StrategySummary(name))

    for s in signals:
        row(s.strategy).signals += 1
    for i in intents:
        summary = row(i.strategy)
        summary.intents += 1
        summary.intents_in_gap_windows += i.window_id in gap_windows
    for r in rejections:
        row(r.strategy).rejections[r.rule] += 1
    return [table[name] for name in sorted(table)]
