"""The daily summary: trades, realized P&L, assertion pass rate and feed uptime of one UTC day,
from rows, keyed by the day so it is sent once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.daily_summary import DayRows, Gap, daily_summary, summary_day, uptime
from core.enums import Severity
from core.ops_watch import ClosedPnl

DAY = date(2031, 5, 1)
MIDNIGHT = datetime(2031, 5, 1, tzinfo=UTC)


def at(hours: float) -> datetime:
    return MIDNIGHT + timedelta(hours=hours)


def test_the_summary_is_of_the_last_complete_utc_day() -> None:
    assert summary_day(datetime(2031, 5, 2, 0, 0, 1, tzinfo=UTC)) == DAY
    assert summary_day(datetime(2031, 5, 2, 23, 59, tzinfo=UTC)) == DAY


def test_uptime_is_the_share_of_the_day_without_any_feed_gap() -> None:
    gaps = [Gap(at(1), at(3)), Gap(at(2), at(4)), Gap(at(-2), at(0.5)), Gap(at(23), None)]
    # merged: 00:00-00:30, 01:00-04:00, 23:00-24:00 = 4.5 h of 24
    assert uptime(DAY, gaps) == Decimal(1) - Decimal("4.5") / Decimal(24)
    assert uptime(DAY, []) == Decimal(1)
    assert uptime(DAY, [Gap(at(-5), None)]) == Decimal(0)


@given(st.lists(st.tuples(st.floats(-30, 50), st.floats(0, 30)), max_size=12))
def test_uptime_is_between_zero_and_one(spans: list[tuple[float, float]]) -> None:
    value = uptime(DAY, [Gap(at(s), at(s + d)) for s, d in spans])
    assert Decimal(0) <= value <= Decimal(1)


def test_the_summary_names_trades_pnl_pass_rate_and_uptime_keyed_by_day() -> None:
    rows = DayRows(
        trades={"DRY_RUN": 12, "LIVE": 3},
        pnl=[
            ClosedPnl("DRY_RUN", at(2), Decimal("4.50")),
            ClosedPnl("DRY_RUN", at(3), Decimal("-1.25")),
            ClosedPnl("LIVE", at(3), Decimal("2")),
            ClosedPnl("LIVE", at(-3), Decimal("100")),  # the day before: not this day's P&L
        ],
        assertions_passed=998,
        assertions_total=1000,
        gaps=[Gap(at(0), at(2.4))],
    )
    a = daily_summary(DAY, rows)
    assert a.alert_kind == "summary.daily" and a.severity is Severity.INFO
    assert a.dedupe_key == "2031-05-01" and a.event_ts == datetime(2031, 5, 2, tzinfo=UTC)
    assert "DRY_RUN: 12 trades, realized P&L 3.25 USD" in a.message
    assert "LIVE: 3 trades, realized P&L 2 USD" in a.message
    assert "assertions 99.80% passed (998/1000)" in a.message
    assert "feed uptime 90.00%" in a.message


def test_a_quiet_day_says_so() -> None:
    a = daily_summary(DAY, DayRows(trades={}, pnl=[], assertions_passed=0, assertions_total=0, gaps=[]))
    assert "no trades" in a.message and "no assertion ran" in a.message and "feed uptime 100.00%" in a.message
