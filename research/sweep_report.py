"""A sweep's results as a text table, a CSV and a chart (Vega-Lite through altair, one HTML file:
P&L net of fees per parameter set, and the win rate with its Wilson interval)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

import altair as alt

from research.sweep import SweepRow

__all__ = ["CSV_COLUMNS", "csv_text", "table_lines", "write_chart"]

CSV_COLUMNS = (
    "index",
    "params",
    "trades",
    "wins",
    "win_rate",
    "win_rate_ci_low",
    "win_rate_ci_high",
    "pnl_usd",
    "fees_usd",
    "max_drawdown_usd",
    "unsettled",
    "intents",
    "killed_after",
    "kill_reason",
    "excluded_windows",
)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _cells(row: SweepRow) -> list[str]:
    m = row.metrics
    return [
        str(row.index),
        row.label,
        str(m.trades),
        str(m.wins),
        _text(m.win_rate),
        _text(m.ci_low),
        _text(m.ci_high),
        str(m.pnl_usd),
        str(m.fees_usd),
        str(m.max_drawdown_usd),
        str(m.unsettled),
        str(row.intents),
        _text(row.killed_after),
        row.kill_reason,
        " ".join(row.excluded_windows),
    ]


def csv_text(rows: Sequence[SweepRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(_cells(row))
    return out.getvalue()


def table_lines(rows: Sequence[SweepRow]) -> list[str]:
    head = f"{'#':>3} {'trades':>6} {'win rate':>8} {'95% CI (Wilson)':>17} {'P&L USD':>10} {'max DD':>8} {'killed':>6}  params"
    lines = [head]
    for row in rows:
        m = row.metrics
        ci = f"{m.ci_low}-{m.ci_high}" if m.ci_low is not None else "-"
        killed = _text(row.killed_after) or "-"
        pnl = m.pnl_usd.quantize(m.pnl_usd.__class__("0.0001"))
        dd = m.max_drawdown_usd.quantize(m.max_drawdown_usd.__class__("0.0001"))
        lines.append(
            f"{row.index:>3} {m.trades:>6} {_text(m.win_rate) or '-':>8} {ci:>17} {pnl!s:>10} {dd!s:>8} {killed:>6}  {row.label}"
        )
    return lines


def write_chart(rows: Sequence[SweepRow], path: Path, title: str) -> None:
    values = [
        {
            "params": row.label,
            "pnl_usd": float(row.metrics.pnl_usd),  # display only: the figures are the CSV's
            "win_rate": float(row.metrics.win_rate) if row.metrics.win_rate is not None else None,
            "ci_low": float(row.metrics.ci_low) if row.metrics.ci_low is not None else None,
            "ci_high": float(row.metrics.ci_high) if row.metrics.ci_high is not None else None,
        }
        for row in rows
    ]
    data = alt.Data(values=values)  # type: ignore[no-untyped-call]
    x = alt.X("params:N", sort=None, title="parameter set")
    pnl = (
        alt.Chart(data, title=f"{title}: P&L net of fees")
        .mark_bar()
        .encode(x=x, y=alt.Y("pnl_usd:Q", title="USD"))
    )
    rate = alt.Chart(data, title="win rate, 95% Wilson interval").encode(x=x)
    band = rate.mark_rule().encode(
        y=alt.Y("ci_low:Q", title="win rate", scale=alt.Scale(domain=[0, 1])), y2="ci_high:Q"
    )
    dots = rate.mark_point(filled=True, size=60).encode(y="win_rate:Q")
    alt.vconcat(pnl, band + dots).save(str(path))
