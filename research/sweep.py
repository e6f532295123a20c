"""`polywindow sweep`'s engine: one backtest per parameter set of the grid, in parallel processes,
each reduced to its figures (`core.sweep.sweep_metrics`). Results come back in the grid's order
whatever the number of processes, and each backtest is deterministic (event time, fixed controls),
so a sweep gives the same rows run twice and with one or several processes.

Worker processes are spawned (not forked): a fork would copy this process's threads and Bytewax
state half-way; a spawned worker imports the flow afresh and gets only the job (plain data)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

from core.strategy_review import KillCriterion, SettledResult, kill_point
from core.sweep import BacktestTrade, SweepMetrics, params_label, sweep_metrics
from research.backtest import BacktestJob, run_backtest

__all__ = ["SweepRow", "run_sweep", "settled_results"]


@dataclass(frozen=True)
class SweepRow:
    """One parameter set's backtest: its figures, and where a kill criterion would have paused it."""

    index: int
    params: Mapping[str, Any]
    metrics: SweepMetrics
    intents: int
    excluded_windows: tuple[str, ...]
    killed_after: int | None = None
    kill_reason: str = ""

    @property
    def label(self) -> str:
        return params_label(self.params)


def settled_results(trades: Sequence[BacktestTrade]) -> list[SettledResult]:
    """Settled trades as one result per window (its trades' P&L summed), in settlement order."""
    per_window: dict[str, SettledResult] = {}
    for t in trades:
        if t.pnl_usd is None or t.settled_at is None or not t.traded:
            continue
        held = per_window.get(t.window_id)
        pnl = t.pnl_usd if held is None else held.pnl_usd + t.pnl_usd
        per_window[t.window_id] = SettledResult(t.window_id, t.settled_at, pnl)
    return sorted(per_window.values(), key=lambda r: (r.settled_at, r.window_id))


def _one(args: tuple[int, BacktestJob, KillCriterion | None]) -> SweepRow:
    index, job, kill = args
    run = run_backtest(job)
    stopped = kill_point(settled_results(run.trades), kill) if kill is not None else None
    return SweepRow(
        index=index,
        params=dict(job.params),
        metrics=sweep_metrics(run.trades),
        intents=run.intents,
        excluded_windows=run.excluded_windows,
        killed_after=stopped[0] if stopped else None,
        kill_reason=stopped[1] if stopped else "",
    )


def run_sweep(
    base: BacktestJob,
    param_sets: Sequence[Mapping[str, Any]],
    processes: int = 1,
    kill: KillCriterion | None = None,
) -> list[SweepRow]:
    """A backtest of `base` per parameter set, on `processes` processes (1: this one)."""
    if processes < 1:
        raise ValueError("processes must be at least 1")
    jobs = [(i, replace(base, params=dict(p)), kill) for i, p in enumerate(param_sets)]
    if processes == 1 or len(jobs) == 1:
        return [_one(job) for job in jobs]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(processes, len(jobs)), mp_context=context) as pool:
        rows = list(pool.map(_one, jobs))
    return sorted(rows, key=lambda r: r.index)
