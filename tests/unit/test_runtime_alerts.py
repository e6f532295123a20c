"""Quarantined frames are alerted once per burst: the first at once, the rest summed per period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.backoff import retry_after_s
from core.runtime_alerts import QuarantineAlerts

T0 = datetime(2026, 6, 8, 12, 0, tzinfo=UTC)


def test_the_first_reject_alerts_and_the_next_ones_wait_for_the_period() -> None:
    alerts = QuarantineAlerts("rtds", every=timedelta(seconds=60))
    first = alerts.note("malformed JSON", T0)
    assert first is not None and "1 frame(s)" in first.message and "malformed JSON" in first.message
    assert alerts.note("bad", T0 + timedelta(seconds=10)) is None
    assert alerts.note("bad", T0 + timedelta(seconds=59)) is None
    later = alerts.note("worse", T0 + timedelta(seconds=60))
    assert later is not None and "3 frame(s)" in later.message and "worse" in later.message


@given(st.lists(st.integers(0, 600), min_size=1, max_size=200))
def test_every_reject_is_counted_in_exactly_one_alert_or_still_held(offsets: list[int]) -> None:
    alerts = QuarantineAlerts("market", every=timedelta(seconds=60))
    counted = 0
    for s in sorted(offsets):
        alert = alerts.note("x", T0 + timedelta(seconds=s))
        if alert is not None:
            counted += int(alert.message.split(": ")[1].split(" ")[0])
    assert counted + alerts.held == len(offsets)


def test_retry_after_reads_seconds_and_http_dates_and_ignores_junk() -> None:
    assert retry_after_s("79", T0) == 79.0
    assert retry_after_s("Mon, 08 Jun 2026 12:00:30 GMT", T0) == 30.0
    assert retry_after_s("Mon, 08 Jun 2026 11:59:00 GMT", T0) == 0.0
    assert retry_after_s(None, T0) is None and retry_after_s("soon", T0) is None
