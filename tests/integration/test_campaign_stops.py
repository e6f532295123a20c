"""`polywindow campaign stops` in short: each variant over one window of the seeded swing scenario,
through the LIVE executor's order and exit managers on the simulator: A-D fire at their threshold,
sell at once and close with the slippage recorded; the control E never fires."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from polywindow.campaign_report import write_report
from polywindow.campaign_stops import run_stops

pytestmark = [pytest.mark.stack, pytest.mark.timeout(120)]


def test_stops_fire_at_their_threshold_and_the_control_never_does(
    conn: psycopg.Connection, tmp_path: Path
) -> None:
    result = run_stops(
        conn,
        run_id="stops-test",
        windows=1,
        variants=("A", "B", "C", "D", "E"),
        seed=1,
        echo=print,
        max_delay_ms=600_000,  # the order of events is judged here, not the machine's speed
    )
    by_variant = {t.variant: t for t in result.triggers}
    assert sorted(by_variant) == ["A", "B", "C", "D"]
    assert by_variant["D"].reason == "TRAILING_TAKE_PROFIT"
    assert by_variant["A"].reason == by_variant["B"].reason == "STOP_LOSS"
    assert by_variant["B"].mark is not None and by_variant["A"].mark is not None
    assert by_variant["B"].mark < by_variant["A"].mark, "a 15 % stop fires lower than a 5 % one"
    # One window per variant is short of the seed's five: only the `windows` checks fail.
    assert {c.name for c in result.failed} == {f"{v}.windows" for v in "ABCDE"}, result.failed
    for t in result.triggers:
        assert t.actual_price is not None and t.intended_price is not None
        assert t.actual_price < t.intended_price, "the thin top bid makes the exit walk a level"
    rows = conn.execute(
        "SELECT name, passed FROM campaign_checks WHERE run_id = 'stops-test' AND window_id IS NULL ORDER BY name"
    ).fetchall()
    assert ("E.never_fires", True) in rows and ("A.fired", True) in rows
    report = write_report(tmp_path, "stops-test", result.checks, result.charts)
    charts = sorted(tmp_path.glob("*.svg"))
    assert len(charts) == 5 and all("<polyline" in c.read_text() for c in charts)
    assert "threshold" in charts[0].read_text() and "A.fired | PASS" in report.read_text()
