"""Readers of recorded market files in the fixture-day formats (`../shared/fixtures/btc5m-2026-06-08`):
a markets file (JSONL.gz, one window per row with its Gamma object) and an oracle tick file (CSV.gz).

Used by `polywindow settle` and the simulator's replay scenario; trading code must not import the
simulator, so the readers live here. The fixture data stays outside the repository (no licence to
copy it); `fixtures_dir()` finds it next to the repository root, or where POLYWINDOW_FIXTURES_DIR points.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.money import from_e18
from core.settlement import PriceTick, Verdict

FIXTURES_ENV = "POLYWINDOW_FIXTURES_DIR"
FIXTURE_DAY = "btc5m-2026-06-08"
_REPO_ROOT = Path(__file__).resolve().parent.parent


def fixtures_dir() -> Path:
    """The shared fixtures folder: $POLYWINDOW_FIXTURES_DIR, else `../shared/fixtures` from the repo root."""
    override = os.environ.get(FIXTURES_ENV)
    return Path(override) if override else (_REPO_ROOT.parent / "shared" / "fixtures")


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
        day_s = 86_400
        lo = self.day_start.timestamp()
        return [w for w in self.windows if w.start.timestamp() >= lo and w.end.timestamp() < lo + day_s]


def _by_label(raw: dict[str, Any]) -> tuple[str, str]:
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


def load_markets(path: Path) -> list[RecordedWindow]:
    """Rows of `BTC-5m-markets-*.jsonl.gz`, deduplicated by slug (midnight windows repeat across days)."""
    seen: dict[str, RecordedWindow] = {}
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            raw = row["raw"]
            up, down = _by_label(raw)
            seen[row["slug"]] = RecordedWindow(
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
    return sorted(seen.values(), key=lambda w: (w.start, w.slug))


def load_prices(path: Path) -> list[RecordedTick]:
    """Rows of `BTCUSD-prices-*.csv.gz` in file order; the E18 column is the exact price."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return [
            RecordedTick(
                tick=PriceTick(int(r["feed_ts_ms"]), from_e18(r["full_accuracy_value"]), int(r["recv_ms"])),
                display_value=r["value"],
                server_ts_ms=int(r["server_ts_ms"]),
            )
            for r in csv.DictReader(handle)
        ]


def load_fixture_day(folder: Path | None = None) -> FixtureDay:
    """The fixture day's windows and ticks; `folder` defaults to the shared btc5m-2026-06-08 folder."""
    base = folder or fixtures_dir() / FIXTURE_DAY
    day = base.name.rsplit("-", 3)[-3:]
    day_start = datetime(int(day[0]), int(day[1]), int(day[2]), tzinfo=UTC)
    stamp = day_start.strftime("%Y-%m-%d")
    windows = load_markets(base / f"BTC-5m-markets-{stamp}.jsonl.gz")
    ticks = load_prices(base / f"BTCUSD-prices-{stamp}.csv.gz")
    return FixtureDay(day_start=day_start, windows=tuple(windows), ticks=tuple(ticks))
