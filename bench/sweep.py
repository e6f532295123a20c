"""Sweep throughput: a 4-set canary grid over the whole resolvedkit fixture day (18 BTC 15-minute
windows of real books, with their recorded outcomes), on one process and on two, with the machine's
load; checks the rows are the same. Last line: one JSON object."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fixture writer lives in tests/
from core.backtest import all_instruments
from core.sweep import expand_grid
from research.backtest import BacktestJob
from research.sweep import run_sweep
from research.sweep_report import table_lines
from tests.fixture_archive import write_fixture_archive

FROM = datetime(2026, 9, 28, 8, 0, tzinfo=UTC)
TO = datetime(2026, 9, 28, 14, 0, tzinfo=UTC)
GRID = {"seconds_before_close": [60, 120, 240, 600], "notional_usd": "2"}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as where:
        archive = Path(where)
        books = write_fixture_archive(archive, FROM, TO, outcomes=True)
        base = BacktestJob(archive, FROM - timedelta(minutes=30), TO, "canary", {}, all_instruments())
        sets = expand_grid(GRID)
        timings: dict[str, float] = {}
        results = {}
        for processes in (1, 2):
            began = time.perf_counter()
            results[processes] = run_sweep(base, sets, processes)
            timings[f"p{processes}_s"] = round(time.perf_counter() - began, 2)
    for line in table_lines(results[1]):
        print(line)
    print(
        json.dumps(
            {
                "bench": "sweep",
                "book_rows": books,
                "parameter_sets": len(sets),
                **timings,
                "same_rows": results[1] == results[2],
                "load_1m": round(os.getloadavg()[0], 2),
                "cpus": os.cpu_count(),
            }
        )
    )


if __name__ == "__main__":
    main()
