"""The operator's daily summary of one UTC day (trades, realized P&L, assertion pass rate, feed
uptime), from that day's rows (passed in). Pure: the day is an argument, never the clock.

Keyed by the day, so the notifier sends it once however often it is raised. Feed uptime is the share
of the day with no feed gap open on any feed (an open gap counts to the end of the day).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from core.enums import Severity
from core.models import Alert
from core.ops_watch import ClosedPnl

__all__ = ["DayRows", "Gap", "daily_summary", "day_bounds", "summary_day", "uptime"]

_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Gap:
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class DayRows:
    trades: Mapping[str, int]  # fills per mode
    pnl: Sequence[ClosedPnl]
    assertions_passed: int
    assertions_total: int
    gaps: Sequence[Gap]


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(), tzinfo=UTC)
    return start, start + _DAY


def summary_day(now: datetime) -> date:
    """The day a summary is due for at `now`: the last complete UTC day."""
    return (now.astimezone(UTC) - _DAY).date()


def uptime(day: date, gaps: Sequence[Gap]) -> Decimal:
    start, end = day_bounds(day)
    spans = sorted(
        (max(g.started_at, start), min(g.ended_at or end, end))
        for g in gaps
        if g.started_at < end and (g.ended_at is None or g.ended_at > start)
    )
    down = timedelta()
    cur_start: datetime | None = None
    cur_end = start
    for s, e in spans:
        if cur_start is None or s > cur_end:
            if cur_start is not None:
                down += cur_end - cur_start
            cur_start, cur_end = s, e
        else:
            cur_end = max(cur_end, e)
    if cur_start is not None:
        down += cur_end - cur_start
    micros = Decimal(down // timedelta(microseconds=1))
    return Decimal(1) - micros / Decimal(_DAY // timedelta(microseconds=1))


def _pct(value: Decimal) -> str:
    return f"{(value * 100).quantize(Decimal('0.01'))}%"


def daily_summary(day: date, rows: DayRows) -> Alert:
    start, end = day_bounds(day)
    pnl: dict[str, Decimal] = {}
    for row in rows.pnl:
        if start <= row.closed_at < end:
            pnl[row.mode] = pnl.get(row.mode, Decimal(0)) + row.realized_pnl_usd
    modes = sorted(set(rows.trades) | set(pnl))
    lines = [
        f"{m}: {rows.trades.get(m, 0)} trades, realized P&L {pnl.get(m, Decimal(0))} USD" for m in modes
    ] or ["no trades"]
    if rows.assertions_total:
        rate = Decimal(rows.assertions_passed) / Decimal(rows.assertions_total)
        lines.append(f"assertions {_pct(rate)} passed ({rows.assertions_passed}/{rows.assertions_total})")
    else:
        lines.append("no assertion ran")
    lines.append(f"feed uptime {_pct(uptime(day, rows.gaps))}")
    return Alert(
        alert_kind="summary.daily",
        severity=Severity.INFO,
        message=f"daily summary {day.isoformat()} (UTC): " + "; ".join(lines),
        dedupe_key=day.isoformat(),
        event_ts=end,
    )
