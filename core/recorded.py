"""Recorded windows and oracle ticks in the fixture-day row formats (`../shared/fixtures/btc5m-*`),
parsed from rows already read: the files are opened by the adapters (the simulator's replay and
`polywindow settle`), the meaning of a row lives here once."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.money import from_e18
from core.settlement import PriceTick, Verdict

DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class RecordedWindow:
    """One recorded window: identity, bounds, the official outcome (None if unresolved) and the
    untouched Gamma object."""

    slug: str
    condition_id: str
    up_token_id: str
    down_token_id: str
    start: datetime
    end: datetime
    outcome: Verdict | None
    strike: Decimal | None
    raw: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RecordedTick:
    """One relayed Chainlink print: the exact price, the display float's text, and relay times (ms)."""

    tick: PriceTick
    display_value: str
    server_ts_ms: int


@dataclass(frozen=True, slots=True)
class FixtureDay:
    day_start: datetime
    windows: tuple[RecordedWindow, ...]
    ticks: tuple[RecordedTick, ...]
    symbol: str = "btc/usd"

    def windows_inside_day(self) -> list[RecordedWindow]:
        """Windows whose both boundary seconds lie inside the recorded UTC day."""
        lo = self.day_start.timestamp()
        return [w for w in self.windows if w.start.timestamp() >= lo and w.end.timestamp() < lo + DAY_S]


def _by_label(raw: Mapping[str, Any]) -> tuple[str, str]:
    """Up and Down token ids, matched by outcome label (the order is not a promise)."""
    labels = json.loads(raw["outcomes"])
    tokens = json.loads(raw["clobTokenIds"])
    mapping = dict(zip(labels, tokens, strict=True))
    return mapping["Up"], mapping["Down"]


def _outcome(prices: list[str] | None) -> Verdict | None:
    """Up for ["1","0"], Down for ["0","1"] (the file's order is [Up, Down]); None otherwise."""
    if prices == ["1", "0"]:
        return Verdict.UP
    if prices == ["0", "1"]:
        return Verdict.DOWN
    return None


def window_from_row(row: Mapping[str, Any]) -> RecordedWindow:
    """One JSON row of a `*-markets-*.jsonl` file."""
    raw = row["raw"]
    up, down = _by_label(raw)
    return RecordedWindow(
        slug=row["slug"],
        condition_id=row["condition_id"],
        up_token_id=up,
        down_token_id=down,
        start=datetime.fromtimestamp(row["start_sec"], tz=UTC),
        end=datetime.fromtimestamp(row["end_sec"], tz=UTC),
        outcome=_outcome(row.get("outcome_prices")),
        strike=from_e18(row["strike_value"]) if row["strike_value"] is not None else None,
        raw=raw,
    )


def windows_from_rows(rows: Iterable[Mapping[str, Any]]) -> list[RecordedWindow]:
    """Deduplicated by slug (windows crossing midnight repeat across days), ordered by start."""
    seen = {w.slug: w for w in map(window_from_row, rows)}
    return sorted(seen.values(), key=lambda w: (w.start, w.slug))


def tick_from_row(row: Mapping[str, str]) -> RecordedTick:
    """One CSV row of a `*-prices-*.csv` file; the E18 column is the exact price, `value` display only."""
    return RecordedTick(
        tick=PriceTick(int(row["feed_ts_ms"]), from_e18(row["full_accuracy_value"]), int(row["recv_ms"])),
        display_value=row["value"],
        server_ts_ms=int(row["server_ts_ms"]),
    )
