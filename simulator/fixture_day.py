"""The recorded fixture day the replay scenario plays: windows and Chainlink ticks, read with
`core.recorded` (the simulator imports only core, so it opens the files itself)."""

from __future__ import annotations

import csv
import gzip
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from core.recorded import FixtureDay, RecordedTick, RecordedWindow, tick_from_row, windows_from_rows

__all__ = ["FIXTURE_DAY", "FixtureDay", "RecordedTick", "RecordedWindow", "fixtures_dir", "load_fixture_day"]

FIXTURES_ENV = "POLYWINDOW_FIXTURES_DIR"
FIXTURE_DAY = "btc5m-2026-06-08"


def fixtures_dir() -> Path:
    """$POLYWINDOW_FIXTURES_DIR, else `../shared/fixtures` next to the repository root."""
    override = os.environ.get(FIXTURES_ENV)
    return Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "fixtures"


def load_fixture_day(folder: Path | None = None) -> FixtureDay:
    """The fixture day's windows and ticks; `folder` defaults to the shared btc5m-2026-06-08 folder."""
    base = folder or fixtures_dir() / FIXTURE_DAY
    year, month, day = base.name.rsplit("-", 3)[-3:]
    day_start = datetime(int(year), int(month), int(day), tzinfo=UTC)
    stamp = day_start.strftime("%Y-%m-%d")
    with gzip.open(base / f"BTC-5m-markets-{stamp}.jsonl.gz", "rt", encoding="utf-8") as handle:
        windows = windows_from_rows(json.loads(line) for line in handle)
    with gzip.open(base / f"BTCUSD-prices-{stamp}.csv.gz", "rt", encoding="utf-8", newline="") as handle:
        ticks = [tick_from_row(row) for row in csv.DictReader(handle)]
    return FixtureDay(day_start=day_start, windows=tuple(windows), ticks=tuple(ticks))
