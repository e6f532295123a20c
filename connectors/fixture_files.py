"""Open recorded files in the fixture-day formats for `polywindow settle` and the tests: a markets
file (JSONL.gz, one window per row with its Gamma object) and an oracle tick file (CSV.gz). What a
row means is `core.recorded`; the fixture data stays outside the repository (no licence to copy it)."""

from __future__ import annotations

import csv
import gzip
import json
import os
from pathlib import Path

from core.recorded import RecordedTick, RecordedWindow, tick_from_row, windows_from_rows

FIXTURES_ENV = "POLYWINDOW_FIXTURES_DIR"
FIXTURE_DAY = "btc5m-2026-06-08"


def fixtures_dir() -> Path:
    """The shared fixtures folder: $POLYWINDOW_FIXTURES_DIR, else `../shared/fixtures` from the repo root."""
    override = os.environ.get(FIXTURES_ENV)
    return Path(override) if override else Path(__file__).resolve().parents[2] / "shared" / "fixtures"


def load_markets(path: Path) -> list[RecordedWindow]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return windows_from_rows(json.loads(line) for line in handle)


def load_prices(path: Path) -> list[RecordedTick]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return [tick_from_row(row) for row in csv.DictReader(handle)]
