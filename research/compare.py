"""`polywindow compare`'s engine: a strategy's live or paper positions (PostgreSQL) beside the same
windows replayed in BACKTEST (the archive, with the same parameters), compared by
`core.strategy_compare.compare`. The side of each live position comes from the archived window's
token ids, so no other table is needed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import psycopg

from core.enums import Outcome
from core.models import WindowEvent
from core.serde import DecodeError, decode
from core.strategy_compare import Comparison, LiveTrade, compare
from research.backtest import BacktestJob, run_backtest
from sinks.archive_reader import read_archive
from sinks.postgres.strategy_registry import strategy_positions

__all__ = ["LEAD", "archived_windows", "compare_live"]

LEAD = timedelta(minutes=30)
"""How long before a window's start the replay begins (its announcement and first books)."""


def archived_windows(archive_dir: Path, start: datetime, end: datetime) -> dict[str, WindowEvent]:
    """Each window announced in the archive in [start, end): its first event (tokens, start, end)."""
    found: dict[str, WindowEvent] = {}
    for event in read_archive(archive_dir, ("md.windows",), start, end):
        try:
            window = decode(event.topic, event.value)
        except DecodeError:
            continue
        if isinstance(window, WindowEvent):
            found.setdefault(str(window.window_id), window)
    return found


def _side(window: WindowEvent | None, token_id: str) -> Outcome | None:
    if window is None:
        return None
    if token_id == str(window.up_token_id):
        return Outcome.UP
    return Outcome.DOWN if token_id == str(window.down_token_id) else None


def compare_live(conn: psycopg.Connection, job: BacktestJob, mode: str) -> Comparison:
    """`job.strategy`'s `mode` positions opened in [job.start, job.end) against the backtest of the
    windows they are in (replayed from `LEAD` before the first window's start to after the last end)."""
    positions = strategy_positions(conn, job.strategy, mode, job.start, job.end)
    windows = archived_windows(job.archive_dir, job.start - 2 * LEAD, job.end + LEAD)
    live = [
        LiveTrade(
            p.window_id,
            _side(windows.get(p.window_id), p.token_id),
            p.avg_entry_price,
            p.cost_usd,
            p.realized_pnl_usd if p.closed else None,
        )
        for p in positions
    ]
    traded = [windows[w] for w in {p.window_id for p in positions} if w in windows]
    if not traded:
        return compare(live, [])
    first = min(w.start_ts for w in traded) - LEAD
    last = max(w.end_ts for w in traded) + timedelta(minutes=5)
    run = run_backtest(replace(job, start=first, end=last))
    return compare(live, run.trades)
