"""The canary campaign's judgement: gather each traded window's evidence, run `core.campaign_checks`,
store the run (`campaign_runs`, `campaign_windows`, `campaign_checks`) and print it as a table.

`evaluate` is what `polywindow campaign canary` calls once its windows are settled; it is also the
part the tests drive after trading windows through the LIVE executor on the simulator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg

from connectors.polymarket.clob import Venue
from core.campaign_checks import (
    CANARY_CHECKS,
    Check,
    RunEvidence,
    WindowEvidence,
    run_checks,
    window_checks,
)
from polywindow.campaign_evidence import window_evidence
from polywindow.campaign_report import WindowChart
from sinks.postgres.campaign_store import assertion_failures_since, realized_pnl, write_run

__all__ = ["CampaignResult", "charts", "evaluate", "table"]


@dataclass(frozen=True)
class CampaignResult:
    run_id: str
    windows: list[WindowEvidence]
    checks: list[tuple[str, Check]]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[Check]:
        return [c for _v, c in self.checks if not c.passed]

    @property
    def passed(self) -> bool:
        return not self.failed


def evaluate(
    conn: psycopg.Connection,
    venue: Venue,
    *,
    run_id: str,
    window_ids: Sequence[str],
    started_at: datetime,
    finished_at: datetime,
    balance_before_usd: Decimal,
    gamma_url: str | None,
    params: dict[str, Any],
    extra_checks: Sequence[Check] = (),
    balance_after_usd: Decimal | None = None,
    store: psycopg.Connection | None = None,
    mode: str = "LIVE",
    pnl_window_ids: Sequence[str] | None = None,
) -> CampaignResult:
    """Judge the run's windows (their rows in `conn`) and the account; store everything in one
    transaction in `store` (default `conn`), return it. The account's balance change is set against
    the realized P&L of `pnl_window_ids` (default: the judged windows), every window that moved it."""
    windows = [window_evidence(conn, venue, w, gamma_url, mode) for w in window_ids]
    checks: list[tuple[str, Check]] = [("", c) for w in windows for c in window_checks(w)]
    pnl, still_open = realized_pnl(conn, mode, window_ids if pnl_window_ids is None else pnl_window_ids)
    failures = assertion_failures_since(conn, started_at)
    after = venue.balance() if balance_after_usd is None else balance_after_usd
    run = RunEvidence(balance_before_usd, after, pnl, still_open, failures)
    checks += [("", c) for c in run_checks(run, windows)]
    checks += [("", c) for c in extra_checks]
    failed = [c for _v, c in checks if not c.passed]
    by_window = {w.window_id: [c for _v, c in checks if c.window_id == w.window_id] for w in windows}
    write_run(
        store or conn,
        {
            "run_id": run_id,
            "kind": "canary",
            "params": params,
            "started_at": started_at,
            "finished_at": finished_at,
            "windows": len(windows),
            "checks": len(checks),
            "failed": len(failed),
            "assertion_failures": len(failures),
            "passed": not failed,
            "summary": {
                "balance_before_usd": run.balance_before_usd,
                "balance_after_usd": run.balance_after_usd,
                "realized_pnl_usd": pnl,
                "outcomes": sorted({w.venue_outcome for w in windows if w.venue_outcome}),
            },
        },
        [
            {
                "window_id": w.window_id,
                "instrument": w.instrument,
                "our_outcome": w.our_outcome,
                "venue_outcome": w.venue_outcome,
                "passed": all(c.passed for c in by_window[w.window_id]),
                "evidence": {c.name: c.evidence for c in by_window[w.window_id]},
            }
            for w in windows
        ],
        checks,
    )
    return CampaignResult(run_id, windows, checks)


def table(result: CampaignResult, echo: Callable[[str], None]) -> None:
    """One line per window (each check PASS/FAIL), the account's checks, then every failure with its evidence."""
    names = list(CANARY_CHECKS)
    echo(f"campaign {result.run_id}: {len(result.windows)} window(s)")
    echo(f"{'window':<36} {'inst':<8} {'ours':<5} {'venue':<5} " + " ".join(f"{n[:10]:<10}" for n in names))
    for w in result.windows:
        mine = {c.name: c for _v, c in result.checks if c.window_id == w.window_id}
        marks = " ".join(f"{('PASS' if mine[n].passed else 'FAIL') if n in mine else '-':<10}" for n in names)
        echo(
            f"{w.window_id[:36]:<36} {w.instrument:<8} {w.our_outcome or '-':<5} {w.venue_outcome or '-':<5} {marks}"
        )
    for _v, c in result.checks:
        if c.window_id is None:
            echo(f"{c.name:<20} {'PASS' if c.passed else 'FAIL'}  {c.evidence}")
    for c in result.failed:
        echo(f"FAILED {c.name} [{c.window_id or 'run'}]: {c.evidence}")
    total = len(result.checks)
    echo(f"{total - len(result.failed)}/{total} checks passed" + ("" if result.passed else " (exit 1)"))


def charts(result: CampaignResult) -> list[WindowChart]:
    """A chart per window: entry and exit prices (no price path: the books are not in PostgreSQL)."""
    out = []
    for w in result.windows:
        bought = [f for f in w.our_fills if f.side == "BUY"]
        sold = [f for f in w.our_fills if f.side == "SELL"]
        size = sum((f.size for f in bought), Decimal(0))
        entry = sum((f.price * f.size for f in bought), Decimal(0)) / size if size else None
        exit_size = sum((f.size for f in sold), Decimal(0))
        exit_price = sum((f.price * f.size for f in sold), Decimal(0)) / exit_size if exit_size else None
        path = [p for p in (entry, exit_price) if p is not None]
        label = f"ours {w.our_outcome}, Gamma {w.venue_outcome}"
        title = f"{w.instrument} {w.window_id}"
        trigger = len(path) - 1 if exit_price is not None else None
        out.append(WindowChart(w.window_id, title, path, entry, None, trigger, exit_price, label))
    return out
