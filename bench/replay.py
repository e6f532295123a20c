"""Replay throughput: book events/s per worker through the whole trading flow, and peak RSS.

The 38,333 real L2 snapshots of ../shared/fixtures/resolvedkit-btc15m-2026-09-28 (18 BTC 15-minute
windows) are written into archive form, then replayed with `polywindow replay`'s construction
(`flows.replay.replay`: read_archive -> decode -> route -> window state -> canary -> risk): the
1-worker run `--repeat` times (best and median; events per CPU-second too, steadier on a shared
machine) and once with 2 workers, each in a fresh process so its peak RSS is its own. Beside them,
measured in the same run: the archive read alone, each stage's cost per event run alone without
Bytewax (`stages_us_per_event`), a flow of the same operators doing nothing (`topology_floor`:
Bytewax's own cost), and a cProfile of the 1-worker run by part (`where_the_time_goes_pct`).
NautilusTrader's engine does 44.5k snapshots/s on the same books (PERFORMANCE.md). Last line: one
JSON object.

Where the time goes (2026-12-02, 2 cores shared by seven sessions, load average 5-7; per event,
best of 4, stages alone): decode 13 us per book (the regex form check of 40 levels; pydantic took
~170 us) plus the controls restatements below; archive read 16 us single-threaded, most of it
off the flow's thread (Parquet decompress and sort run one slice ahead); route 2 us per book; window
step 4 us; source 2 us; Bytewax for this 12-operator shape ~3-4 us per event (its floor ran at
300-400k inputs/s when the machine was quieter). The largest single cost left is the controls
restatement: the fixture has ~1.5 books per second of event time, so the 250 ms restatement comes
before almost every other event (17,266 for 38,369 events); each is a pydantic decode (~20 us),
a router update (~12 us) and one ControlsUpdate item per live window through the keyed step, i.e.
about 40% of the per-event cost. Denser data (deltas at hundreds per second) pays it per 250 ms,
not per event. Levels are parsed into Decimals only when a strategy reads the book (the canary:
the last minute of a window), so most snapshots are never parsed at all.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import resource
import statistics
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
CONTROL_RESTATEMENTS = (
    17_266  # the fixture period restates its controls this often (every 250 ms of event time)
)


def _input(archive: Path) -> ReplayInput:
    return ReplayInput(
        events=lambda: read_archive(archive, REPLAY_TOPICS, FROM, TO),
        controls=ReplayControls(instruments=all_instruments(), strategies=frozenset({"canary"})),
    )


def one_run(archive: Path, workers: int, profile: bool) -> dict[str, object]:
    started = time.perf_counter()
    cpu_started = time.process_time()
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
    result = replay(_input(archive), TradingFlowSettings(), workers)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    books = result.events
    figures: dict[str, object] = {
        "workers": workers,
        "events": result.events,
        "seconds": round(elapsed, 2),
        "events_per_s": round(books / elapsed),
        "events_per_s_per_worker": round(books / elapsed / workers),
        "events_per_cpu_s": round(books / cpu),
        "intents": len(result.intents),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    if profile:
        profiler.disable()
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats("tottime").print_stats(12)
        figures["profile_top_tottime"] = [
            line.strip() for line in text.getvalue().splitlines() if line.strip()[:1].isdigit()
        ][:12]
        figures["where_the_time_goes_pct"] = where_the_time_goes(stats)
    return figures


# (name, file suffix, function): each part's cumulative time in the profile. The source's own share
# is its `next_batch` minus the archive read inside it; Bytewax is what no part accounts for.
_PARTS = (
    ("archive_read", "sinks/archive_reader.py", "read_archive"),
    ("source_batches", "flows/replay.py", "next_batch"),
    ("decode", "flows/trading.py", "decode_record"),
    ("route", "flows/trading.py", "_route"),
    ("window_step", "core/window_engine.py", "step"),
)


def where_the_time_goes(stats: pstats.Stats) -> dict[str, float]:
    """Percent of the profiled run per part of the flow (cumulative times, no double counting)."""
    cumulative: dict[str, float] = {}
    total = 0.0
    for (path, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        if function == "run_main" or "bytewax.run_main" in function:
            total = max(total, row[3])
        for name, suffix, wanted in _PARTS:
            if function == wanted and path.endswith(suffix):
                cumulative[name] = cumulative.get(name, 0.0) + row[3]
    total = total or stats.total_tt  # type: ignore[attr-defined]
    parts = dict(cumulative)
    parts["source_batches"] = parts.get("source_batches", 0.0) - parts.get("archive_read", 0.0)
    parts["bytewax_and_rest"] = total - sum(parts.values())
    return {name: round(100 * seconds / total, 1) for name, seconds in parts.items()}


def read_only(archive: Path) -> float:
    started = time.perf_counter()
    count = sum(1 for _ in read_archive(archive, REPLAY_TOPICS, FROM, TO))
    return count / (time.perf_counter() - started)


def topology_floor(items: int, windows_per_item: float = 1.27) -> dict[str, object]:
    """Items/s through a flow of the trading flow's shape (the same operators, batches of 1,000)
    doing nothing: what Bytewax alone costs per input on this machine now, the replay's ceiling."""
    import bytewax.operators as op
    from bytewax.dataflow import Dataflow
    from bytewax.testing import TestingSink, TestingSource, run_main

    out: list[int] = []
    fan = [(0, "a"), (1, "b")]
    flow = Dataflow("floor")
    raw = op.input("in", flow, TestingSource(range(items), batch_size=1000))
    split = op.branch("bad", op.map("decode", raw, lambda x: x), lambda x: x < 0)
    routed = op.stateful_map("route", op.key_on("one", split.falses, lambda _: "r"), lambda s, x: (s, x))
    op.filter_map("problems", routed, lambda _: None)
    fanned = op.flat_map("fan", routed, lambda kv: fan[: 1 + (kv[1] % 100 < (windows_per_item - 1) * 100)])
    keyed = op.map_value("value", op.key_on("by_window", fanned, lambda p: p[1]), lambda p: p[0])
    outputs = op.flat_map("outputs", op.stateful_map("window", keyed, lambda s, x: (s, [])), lambda kv: kv[1])
    for name in ("signals", "intents", "rejections"):
        op.output(f"out_{name}", op.filter_map(name, outputs, lambda o: o), TestingSink(out))
    started = time.perf_counter()
    run_main(flow)  # type: ignore[no-untyped-call]
    return {"topology_floor_inputs_per_s": round(items / (time.perf_counter() - started))}


def stage_costs(archive: Path) -> tuple[dict[str, float], int]:
    """Microseconds per archived event of each stage run alone, in order, without Bytewax (so no
    profiler distorts them): what the flow's own code costs; the flow's wall time minus their sum
    is Bytewax's share."""
    from datetime import timedelta

    from core.backtest import controls_due
    from core.routing import WindowRouter
    from core.window_engine import step
    from core.window_state import WindowState
    from flows.trading import CONTROLS_TABLE, RawRecord, decode_record, make_desk

    inp, clock = _input(archive), time.perf_counter
    costs: dict[str, float] = {}
    gc.disable()  # every stage's output is kept for the next: collections would re-trace it all
    started = clock()
    events = list(inp.events())
    costs["archive_read"] = clock() - started
    records: list[RawRecord] = []
    started, stated = clock(), None
    for event in events:
        if controls_due(stated, event.recv_ts):
            stated = event.recv_ts
            records.append(RawRecord(CONTROLS_TABLE, inp.controls.snapshot_json(stated), stated))
        records.append(RawRecord(event.topic, event.value, event.recv_ts))
    costs["source_records"] = clock() - started
    started = clock()
    decoded = [decode_record(r) for r in records]
    costs["decode"] = clock() - started
    router, started = WindowRouter(timedelta(hours=1)), clock()
    routed = [router.route(d[1]).routed for d in decoded if isinstance(d, tuple)]
    costs["route"] = clock() - started
    desk, started = make_desk(TradingFlowSettings()), clock()
    states: dict[str, WindowState | None] = {}
    for pairs in routed:
        for window_id, item in pairs:
            states[window_id], _ = step(states.get(window_id), item, desk)
    costs["window_step"] = clock() - started
    gc.enable()
    per_event = {name: round(seconds * 1e6 / len(events), 2) for name, seconds in costs.items()}
    return per_event, len(records) - len(events)


def _run(archive: Path, workers: int, profile: bool = False) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--one", str(workers), "--archive", str(archive)]
    done = subprocess.run(
        cmd + (["--profile"] if profile else []), capture_output=True, text=True, check=True
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", type=int, default=0, help="(internal) one run with this many workers")
    parser.add_argument("--archive", type=Path)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--repeat", type=int, default=3, help="1-worker runs (best and median reported)")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(args.archive, args.one, args.profile)))
        return
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="pw-bench-replay-") as tmp:
        archive = Path(tmp)
        books = write_fixture_archive(archive, FROM, TO)
        reads = [read_only(archive) for _ in range(args.repeat)]
        figures: dict[str, object] = {"book_snapshots": books, "archive_read_events_per_s": round(max(reads))}
        runs = [_run(archive, 1) for _ in range(args.repeat)]
        best = max(runs, key=lambda r: int(str(r["events_per_s"])))
        figures |= {f"w1_{k}": v for k, v in best.items() if k != "workers"}
        for key in ("events_per_s", "events_per_cpu_s"):
            figures[f"w1_{key}_median"] = round(statistics.median(int(str(r[key])) for r in runs))
        figures |= {f"w2_{k}": v for k, v in _run(archive, 2).items() if k != "workers"}
        profiled = _run(archive, 1, profile=True)
        for line in profiled.pop("profile_top_tottime"):  # type: ignore[attr-defined]
            print(line)
        figures["w1_profiled_seconds"] = profiled["seconds"]
        figures["where_the_time_goes_pct"] = profiled["where_the_time_goes_pct"]
        stages, restatements = stage_costs(archive)
        figures["stages_us_per_event"] = stages
        figures["controls_restatements"] = restatements
        figures |= topology_floor(int(str(best["events"])) + restatements)
        figures["nautilus_snapshots_per_s_performance_md"] = NAUTILUS_SNAPSHOTS_PER_S
        figures["load_average_1m"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
        figures["cpus"] = os.cpu_count()
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
