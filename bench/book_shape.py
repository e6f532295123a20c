"""The synthetic 5-minute books against POLYMARKET.md §11c, time by time.

Runs the synthetic scenario (BTC, 5-minute windows only) on a manual clock, i.e. accelerated as far
as the machine goes, and reads both tokens' books (the body `GET /book` serves) at 120, 90, 60, 45,
30, 20 and 10 s before the close of each of `--windows` consecutive windows, for `--seeds` seeds.
Prints per time §11c's columns: ours, §11c's, and ours / §11c's; the last line is one JSON object
`{"windows": n, "times": {tau: {"ours": {...}, "ref": {...}, "ratio": {...}, "misses": [...]}}}`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from datetime import UTC, datetime, timedelta

from simulator.book_stats import REFERENCE_5M, SAMPLE_TAUS_S, Sample, misses, sample, summarize
from simulator.exchange import Exchange
from simulator.markets import ManualClock
from simulator.scenario import ScenarioSettings, build_scenario
from simulator.windows import WindowSettings

T0 = datetime(2026, 9, 5, 12, 0, tzinfo=UTC)
COLUMNS = (
    "quoted_both",
    "best_ask",
    "buyable_under_099",
    "fill_50",
    "ask_depth",
    "fav_ask_depth",
    "spread_p90_c",
    "slippage_p90_c",
)


def collect(seed: int, windows: int) -> dict[int, list[Sample]]:
    settings = ScenarioSettings(
        start=T0,
        windows=WindowSettings(assets=("btc",), intervals_s=(300,), horizon_s=(windows + 2) * 300),
    )
    scenario = build_scenario("synthetic", 1.0, seed, Exchange(), settings=settings, clock=ManualClock(T0))
    chosen = sorted((w for w in scenario.registry.all() if w.start >= T0), key=lambda w: w.start)[:windows]
    out: dict[int, list[Sample]] = {tau: [] for tau in SAMPLE_TAUS_S}
    for window in chosen:
        for tau in SAMPLE_TAUS_S:
            scenario.advance_to(window.end - timedelta(seconds=tau))
            ex = scenario.exchange
            out[tau].append(sample(ex.book(window.up_token_id), ex.book(window.down_token_id)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--windows", type=int, default=40, help="windows per seed (at least 20)")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    samples: dict[int, list[Sample]] = {tau: [] for tau in SAMPLE_TAUS_S}
    for seed in range(1, args.seeds + 1):
        for tau, got in collect(seed, max(20, args.windows)).items():
            samples[tau] += got
    report: dict[str, object] = {"windows": len(samples[SAMPLE_TAUS_S[0]]), "times": {}}
    times: dict[str, object] = {}
    print(f"{'tau':>4} {'column':<18} {'ours':>10} {'§11c':>10} {'ratio':>7}")
    for tau in SAMPLE_TAUS_S:
        ours = summarize(samples[tau])
        ref = dataclasses.asdict(REFERENCE_5M[tau])
        ratio: dict[str, float | None] = {}
        for col in COLUMNS:
            mine, theirs = ours[col], ref[col]
            ratio[col] = round(mine / theirs, 3) if mine is not None and theirs else None
            print(f"{tau:>4} {col:<18} {_fmt(mine):>10} {_fmt(theirs):>10} {_fmt(ratio[col]):>7}")
        times[str(tau)] = {"ours": ours, "ref": ref, "ratio": ratio, "misses": misses(tau, ours)}
    report["times"] = times
    print(json.dumps(report, sort_keys=True))


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3f}"


if __name__ == "__main__":
    main()
