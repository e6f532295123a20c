"""One backtest of one strategy and parameter set, settled into trades: the archived period through
the trading flow in BACKTEST (`flows.replay`, windows with a feed gap left out by its source), each
intent filled and settled by `core.sweep.settle_intent` at the venue's resolution found in the
archive's `md.windows`. Plain data in and out, so a sweep can run it in another process."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.backtest import Gap, ReplayControls
from core.enums import Outcome, WindowPhase
from core.fees import FeeSchedule
from core.models import OrderIntent, WindowEvent
from core.serde import DecodeError, decode
from core.sweep import BacktestTrade, settle_intent
from flows.replay import REPLAY_TOPICS, ReplayInput, replay
from flows.trading import TradingFlowSettings
from sinks.archive_reader import read_archive

__all__ = ["RESOLUTION_GRACE", "BacktestJob", "BacktestRun", "run_backtest", "window_outcomes"]

RESOLUTION_GRACE = timedelta(hours=6)
"""How far past the period's end the archive is searched for its windows' resolutions (the venue
resolves a window minutes after its end; a 4-hour window traded near `--to` ends up to 4 h later)."""


@dataclass(frozen=True)
class BacktestJob:
    """Everything one backtest needs, picklable (a sweep sends it to a worker process)."""

    archive_dir: Path
    start: datetime
    end: datetime
    strategy: str
    params: Mapping[str, Any]
    instruments: frozenset[str]
    gaps: tuple[Gap, ...] = ()
    fee_rate: Decimal = Decimal("0.07")
    max_position_usd: Decimal = Decimal(5)
    min_time_left_s: int = 10
    max_daily_drawdown_usd: Decimal = Decimal(50)


@dataclass
class BacktestRun:
    trades: list[BacktestTrade] = field(default_factory=list)
    intents: int = 0
    signals: int = 0
    excluded_windows: tuple[str, ...] = ()


def window_outcomes(archive_dir: Path, start: datetime, end: datetime) -> dict[str, tuple[Outcome, datetime]]:
    """The venue's outcome and its time per window, from the archive's RESOLVED `md.windows` events."""
    found: dict[str, tuple[Outcome, datetime]] = {}
    for event in read_archive(archive_dir, ("md.windows",), start, end):
        try:
            window = decode(event.topic, event.value)
        except DecodeError:
            continue
        if (
            isinstance(window, WindowEvent)
            and window.phase is WindowPhase.RESOLVED
            and window.venue_outcome is not None
        ):
            found.setdefault(str(window.window_id), (window.venue_outcome, window.source_ts))
    return found


def run_backtest(job: BacktestJob) -> BacktestRun:
    """The job's backtest: trades in decision order, with the windows left out for a feed gap."""
    controls = ReplayControls(
        instruments=job.instruments,
        strategies=frozenset({job.strategy}),
        max_position_usd=job.max_position_usd,
    )
    inp = ReplayInput(
        events=lambda: read_archive(job.archive_dir, REPLAY_TOPICS, job.start, job.end),
        controls=controls,
        gaps=job.gaps,
    )
    settings = TradingFlowSettings(
        strategies={job.strategy: dict(job.params)},
        min_time_left_s=job.min_time_left_s,
        max_daily_drawdown_usd=job.max_daily_drawdown_usd,
    )
    result = replay(inp, settings, 1)
    outcomes = window_outcomes(job.archive_dir, job.start, job.end + RESOLUTION_GRACE)
    schedule = FeeSchedule(job.fee_rate)
    trades = [_settle(i, outcomes, schedule, job.max_position_usd) for i in result.intents]
    return BacktestRun(
        trades, len(result.intents), len(result.signals), tuple(sorted(result.excluded_windows))
    )


def _settle(
    intent: OrderIntent,
    outcomes: Mapping[str, tuple[Outcome, datetime]],
    schedule: FeeSchedule,
    cap_usd: Decimal,
) -> BacktestTrade:
    winner, at = outcomes.get(str(intent.window_id), (None, None))
    return settle_intent(intent, winner, at, schedule, cap_usd)
