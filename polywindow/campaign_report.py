"""A campaign's report: `report.md` (every window's checks, the failures with their evidence) and one
SVG chart per window (the price path, the entry, the trigger's threshold, the trigger and the exit).

SVG written by hand: no plotting library is in the lock, and these charts are a polyline and a few
lines. A canary window's chart has no price path (the books are on Kafka and in the archive, not in
PostgreSQL): it shows the entry and the exit or the resolution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from core.campaign_checks import Check

__all__ = ["WindowChart", "svg_chart", "write_report"]

_W, _H, _PAD = 480, 240, 30


@dataclass(frozen=True)
class WindowChart:
    window_id: str
    title: str
    path: Sequence[Decimal]  # prices step by step (may be empty)
    entry: Decimal | None
    threshold: Decimal | None
    trigger_step: int | None
    exit_price: Decimal | None
    strike_label: str = ""


def _y(price: Decimal) -> float:
    return _PAD + (1 - float(price)) * (_H - 2 * _PAD)


def _x(step: int, steps: int) -> float:
    return _PAD + step * (_W - 2 * _PAD) / max(steps - 1, 1)


def svg_chart(chart: WindowChart) -> str:
    """The window's chart as an SVG document (prices 0-1 on the vertical axis)."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" font-family="sans-serif" font-size="10">',
        f'<rect width="{_W}" height="{_H}" fill="white" stroke="#ccc"/>',
        f'<text x="{_PAD}" y="16">{chart.title}</text>',
    ]
    steps = len(chart.path)
    if steps:
        points = " ".join(f"{_x(i, steps):.1f},{_y(p):.1f}" for i, p in enumerate(chart.path))
        parts.append(f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{points}"/>')
    for price, colour, label in (
        (chart.entry, "#2ca02c", "entry"),
        (chart.threshold, "#d62728", "threshold"),
    ):
        if price is not None:
            y = _y(price)
            parts.append(
                f'<line x1="{_PAD}" x2="{_W - _PAD}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}" stroke-dasharray="4 3"/>'
            )
            parts.append(f'<text x="{_W - _PAD + 2}" y="{y + 3:.1f}" fill="{colour}">{label} {price}</text>')
    if chart.trigger_step is not None and steps:
        x, y = _x(chart.trigger_step, steps), _y(chart.path[chart.trigger_step])
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#d62728"/>')
        if chart.exit_price is not None:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{_y(chart.exit_price):.1f}" r="4" fill="none" stroke="black"/>'
            )
            parts.append(
                f'<text x="{x + 6:.1f}" y="{_y(chart.exit_price) + 12:.1f}">exit {chart.exit_price}</text>'
            )
    if chart.strike_label:
        parts.append(f'<text x="{_PAD}" y="{_H - 8}">{chart.strike_label}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def write_report(
    directory: Path, run_id: str, checks: Sequence[tuple[str, Check]], charts: Sequence[WindowChart]
) -> Path:
    """`directory/report.md` and `directory/<window>.svg`; returns the report's path."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = [f"# Campaign {run_id}", ""]
    failed = [c for _v, c in checks if not c.passed]
    lines += [f"{len(checks) - len(failed)}/{len(checks)} checks passed.", ""]
    lines += ["| variant | window | check | result | evidence |", "| --- | --- | --- | --- | --- |"]
    for variant, c in checks:
        evidence = c.evidence.replace("|", "/")
        lines.append(
            f"| {variant} | {c.window_id or 'run'} | {c.name} | {'PASS' if c.passed else 'FAIL'} | {evidence} |"
        )
    lines.append("")
    for chart in charts:
        name = f"{chart.window_id}.svg"
        (directory / name).write_text(svg_chart(chart))
        lines += [f"## {chart.window_id}", "", f"![{chart.title}]({name})", ""]
    report = directory / "report.md"
    report.write_text("\n".join(lines))
    return report
