"""How a flow is run: workers, processes, and Bytewax recovery. Wiring only.

One process with one worker runs on `run_main`; more workers or processes on `cluster_main` (every
process is given all processes' `host:port` addresses and its own index, the same flow and the same
worker count). With a recovery directory, Bytewax snapshots every stateful step and every source
partition's position at the end of each epoch (`epoch`) into SQLite files there, and a run started
again on the same directory resumes from the last complete snapshot. What the flow emitted after
that snapshot comes out again (at-least-once): its sinks must refuse what they already wrote
(`flows.durable.JsonLinesSink`, `flows.trading_io.EventSink` with an identity).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bytewax.dataflow import Dataflow
from bytewax.recovery import RecoveryConfig, init_db_dir
from bytewax.testing import cluster_main, run_main

__all__ = ["RunPlan", "run_dataflow"]


@dataclass(frozen=True)
class RunPlan:
    workers: int = 1
    """Worker threads in this process."""
    addresses: tuple[str, ...] = ()
    """`host:port` of every process of the cluster, this one included (empty: one process)."""
    process_id: int = 0
    recovery_dir: Path | None = None
    epoch: timedelta = field(default=timedelta(seconds=10))
    """Wall time between two snapshots (with a recovery directory): what a resume may redo."""


def _recovery(plan: RunPlan) -> RecoveryConfig | None:
    if plan.recovery_dir is None:
        return None
    if len(plan.addresses) > 1:
        raise ValueError(
            "recovery with several processes is not supported yet: run one process (-w for threads)"
        )
    if not any(plan.recovery_dir.glob("part-*.sqlite3")):
        plan.recovery_dir.mkdir(parents=True, exist_ok=True)
        init_db_dir(plan.recovery_dir, 1)  # type: ignore[no-untyped-call]
    return RecoveryConfig(str(plan.recovery_dir))  # type: ignore[no-untyped-call]


def run_dataflow(flow: Dataflow, plan: RunPlan) -> None:
    """Run `flow` to its end (or until its inputs stop), resuming from the recovery directory."""
    recovery = _recovery(plan)
    if plan.workers <= 1 and len(plan.addresses) <= 1:
        run_main(flow, epoch_interval=plan.epoch, recovery_config=recovery)  # type: ignore[no-untyped-call]
        return
    cluster_main(  # type: ignore[no-untyped-call]
        flow,
        list(plan.addresses),
        plan.process_id,
        epoch_interval=plan.epoch,
        recovery_config=recovery,
        worker_count_per_proc=plan.workers,
    )
