"""Replay throughput: book events/s per worker through the whole trading flow, and peak RSS.

The 38,333 real L2 snapshots of ../shared/fixtures/resolvedkit-btc15m-2026-09-28 (18 BTC 15-minute
windows) are written into archive form, then replayed with `polywindow replay`'s construction
(`flows.replay.replay`: read_archive -> decode -> route -> window state -> canary -> risk) with 1 and
2 workers, each in a fresh process so its peak RSS is its own. The archive read alone and a
cProfile of the 1-worker run say where the time goes. NautilusTrader's engine does 44.5k
snapshots/s on the same books (PERFORMANCE.md). Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from core.backtest import ReplayControls, all_instruments
from flows.replay import REPLAY_TOPICS, ReplayInput, replay
from flows.trading import TradingFlowSettings
from sinks.archive_reader import read_archive

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the fixture writer lives in tests/
from tests.fixture_archive import write_fixture_archive

FROM = datetime(2026, 9, 28, 8, 0, tzinfo=UTC)
TO = datetime(2026, 9, 28, 15, 0, tzinfo=UTC)
NAUTILUS_SNAPSHOTS_PER_S = 44_500


def _input(archive: Path) -> ReplayInput:
    return ReplayInput(
        events=lambda: read_archive(archive, REPLAY_TOPICS, FROM, TO),
        controls=ReplayControls(instruments=all_instruments(), strategies=frozenset({"canary"})),
    )


def one_run(archive: Path, workers: int, profile: bool) -> dict[str, object]:
    started = time.perf_counter()
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
    result = replay(_input(archive), TradingFlowSettings(), workers)
    elapsed = time.perf_counter() - started
    books = result.events
    figures: dict[str, object] = {
        "workers": workers,
        "events": result.events,
        "seconds": round(elapsed, 2),
        "events_per_s": round(books / elapsed),
        "events_per_s_per_worker": round(books / elapsed / workers),
        "intents": len(result.intents),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if profile:
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(12)
        figures["profile_top_tottime"] = [
            line.strip() for line in text.getvalue().splitlines() if line.strip()[:1].isdigit()
        ][:12]
    return figures


def read_only(archive: Path) -> dict[str, object]:
    started = time.perf_counter()
    count = sum(1 for _ in read_archive(archive, REPLAY_TOPICS, FROM, TO))
    elapsed = time.perf_counter() - started
    return {"archive_read_events_per_s": round(count / elapsed)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", type=int, default=0, help="(internal) one run with this many workers")
    parser.add_argument("--archive", type=Path)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.archive, args.one, args.profile)))
        return
    with tempfile.TemporaryDirectory(prefix="pw-bench-replay-") as tmp:
        archive = Path(tmp)
        books = write_fixture_archive(archive, FROM, TO)
        figures: dict[str, object] = {"book_snapshots": books, **read_only(archive)}
        for workers, profile in ((1, False), (2, False), (1, True)):
            cmd = [sys.executable, __file__, "--one", str(workers), "--archive", str(archive)]
            done = subprocess.run(
                cmd + (["--profile"] if profile else []), capture_output=True, text=True, check=True
            )
            run = json.loads(done.stdout.strip().splitlines()[-1])
            key = f"w{workers}" + ("_profiled" if profile else "")
            if profile:
                for line in run.pop("profile_top_tottime"):
                    print(line)
                figures[f"{key}_seconds"] = run["seconds"]
            else:
                figures |= {f"{key}_{k}": v for k, v in run.items() if k != "workers"}
        figures["nautilus_snapshots_per_s_performance_md"] = NAUTILUS_SNAPSHOTS_PER_S
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
