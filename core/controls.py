"""Runtime controls as one immutable, versioned snapshot.

The `runtime_controls` table is the truth (read in full as a `ControlsSnapshot`); `ctl.controls`
carries changes between reads. Each control keeps the `updated_at` of the value held, so a change
older than what a table read already showed (a replay of the compacted topic after a restart) is
ignored. `as_of` is the last moment the values were known to be the truth (a table read or a
change): risk refuses to trade on controls older than `MAX_STALENESS`. Pure: rows and times are
passed in.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from core.enums import ControlName, KillSwitch, TradingMode
from core.models import ControlChange, ControlsSnapshot
from core.money import parse_decimal
from core.timestamps import EPOCH

__all__ = ["MAX_STALENESS", "RuntimeControls", "apply_change", "apply_snapshot", "parse_list", "rows_of"]

MAX_STALENESS = timedelta(seconds=1)
"""Controls older than this (event time) are not used for a decision (DESIGN.md "Safety")."""


def parse_list(text: str) -> frozenset[str]:
    """A list control's text: a JSON array (`["btc-5m"]`, as the table stores it) or comma-separated."""
    stripped = text.strip()
    if stripped.startswith("["):
        items = json.loads(stripped)
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise ValueError(f"a list control must be an array of strings: {text!r}")
        return frozenset(i.strip() for i in items if i.strip())
    return frozenset(part.strip() for part in stripped.split(",") if part.strip())


def _usd(text: str) -> Decimal:
    value = parse_decimal(text.strip().strip('"'))
    if value < 0:
        raise ValueError(f"a dollar limit cannot be negative: {text!r}")
    return value


@dataclass(frozen=True, slots=True)
class RuntimeControls:
    """The six controls at one version. An empty allow-list allows nothing (fail closed)."""

    kill_switch: KillSwitch
    trading_mode: TradingMode
    max_position_usd: Decimal
    max_session_loss_usd: Decimal
    allowed_instruments: frozenset[str]
    allowed_strategies: frozenset[str]
    version: int
    as_of: datetime
    updated_at: Mapping[ControlName, datetime]

    def with_value(self, name: ControlName, text: str) -> RuntimeControls:
        """A copy with one control set from its canonical text (raises ValueError on a bad value)."""
        return replace(self, **{_FIELDS[name]: _parse_value(name, text)})

    def values(self) -> tuple[object, ...]:
        return (
            self.kill_switch,
            self.trading_mode,
            self.max_position_usd,
            self.max_session_loss_usd,
            self.allowed_instruments,
            self.allowed_strategies,
        )


_SCALARS = frozenset(
    {
        ControlName.KILL_SWITCH,
        ControlName.TRADING_MODE,
        ControlName.MAX_POSITION_USD,
        ControlName.MAX_SESSION_LOSS_USD,
    }
)

_ALL_NAMES = frozenset(ControlName)
_FIELDS = {  # in the order of RuntimeControls.values()
    ControlName.KILL_SWITCH: "kill_switch",
    ControlName.TRADING_MODE: "trading_mode",
    ControlName.MAX_POSITION_USD: "max_position_usd",
    ControlName.MAX_SESSION_LOSS_USD: "max_session_loss_usd",
    ControlName.ALLOWED_INSTRUMENTS: "allowed_instruments",
    ControlName.ALLOWED_STRATEGIES: "allowed_strategies",
}


def _parse_value(name: ControlName, text: str) -> Any:  # the type of the field _FIELDS names
    """One control's value from its canonical text (raises ValueError on a bad value)."""
    value = text.strip().strip('"') if name in _SCALARS else text
    if name is ControlName.KILL_SWITCH:
        return KillSwitch(value)
    if name is ControlName.TRADING_MODE:
        return TradingMode(value)
    if name in (ControlName.MAX_POSITION_USD, ControlName.MAX_SESSION_LOSS_USD):
        return _usd(value)
    return parse_list(value)


@lru_cache(maxsize=64)  # a replay restates the same rows several times a second
def _fields(texts: tuple[tuple[ControlName, str], ...]) -> tuple[tuple[str, Any], ...]:
    """The field values the rows' texts set, in order (a later row for the same control wins)."""
    return tuple({_FIELDS[name]: _parse_value(name, text) for name, text in texts}.items())


_CLOSED = RuntimeControls(
    kill_switch=KillSwitch.PAUSE,
    trading_mode=TradingMode.DRY_RUN,
    max_position_usd=Decimal(0),
    max_session_loss_usd=Decimal(0),
    allowed_instruments=frozenset(),
    allowed_strategies=frozenset(),
    version=0,
    as_of=EPOCH,
    updated_at={},
)


def apply_snapshot(held: RuntimeControls | None, snapshot: ControlsSnapshot) -> RuntimeControls:
    """The controls after a full table read. The read must carry all six controls (the migration
    inserts them) or ValueError is raised: a partial read is not the truth. A control whose held
    value came from a change newer than the row read keeps that value (the read began before the
    change was written). The version moves only when a value changed; `as_of` moves to the read time."""
    rows = sorted(snapshot.rows, key=lambda r: r.updated_at)
    stamps = {row.name: row.updated_at for row in rows}
    missing = _ALL_NAMES.difference(stamps)
    if missing:
        raise ValueError(f"runtime_controls read lacks {sorted(m.value for m in missing)}")
    fields = dict(_fields(tuple((row.name, row.value) for row in rows)))  # all six, none is missing
    if held is not None:  # a change newer than the row read (the read raced with it) stands
        for name, seen in held.updated_at.items():
            if seen > stamps[name]:
                fields[_FIELDS[name]], stamps[name] = getattr(held, _FIELDS[name]), seen
    if held is None:
        return RuntimeControls(**fields, version=1, as_of=snapshot.read_at, updated_at=stamps)
    changed = tuple(fields[name] for name in _FIELDS.values()) != held.values()
    as_of = max(snapshot.read_at, held.as_of)
    return RuntimeControls(**fields, version=held.version + changed, as_of=as_of, updated_at=stamps)


def apply_change(held: RuntimeControls | None, change: ControlChange) -> RuntimeControls | None:
    """The controls after one `ctl.controls` change. Before the first table read there is nothing to
    apply it to (None stays None: the table is the truth after a restart). A change older than the
    value held is ignored; a bad value raises ValueError (the caller quarantines it)."""
    if held is None:
        return None
    seen = held.updated_at.get(change.name)
    if seen is not None and change.updated_at <= seen:
        return held
    changed = held.with_value(change.name, change.value)
    stamps = {**held.updated_at, change.name: change.updated_at}
    version = held.version + (1 if changed.values() != held.values() else 0)
    return replace(changed, version=version, as_of=max(held.as_of, change.updated_at), updated_at=stamps)


def rows_of(controls: RuntimeControls, at: datetime, by: str = "test") -> Iterable[ControlChange]:
    """The controls as table rows (for tests and for seeding a snapshot)."""
    texts: dict[ControlName, str] = {
        ControlName.KILL_SWITCH: controls.kill_switch.value,
        ControlName.TRADING_MODE: controls.trading_mode.value,
        ControlName.MAX_POSITION_USD: str(controls.max_position_usd),
        ControlName.MAX_SESSION_LOSS_USD: str(controls.max_session_loss_usd),
        ControlName.ALLOWED_INSTRUMENTS: json.dumps(sorted(controls.allowed_instruments)),
        ControlName.ALLOWED_STRATEGIES: json.dumps(sorted(controls.allowed_strategies)),
    }
    return [ControlChange(name=n, value=v, updated_by=by, updated_at=at) for n, v in texts.items()]
