"""The safety net's alerts: one trip alert per breaker episode, one per failing assertion per
episode (the same dedupe key tick after tick), none while the breaker is closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.assertions import Check
from core.breaker import Breaker, observe, reset
from execution.assertion_runner import alerts_for

T0 = datetime(2031, 5, 1, tzinfo=UTC)
FAIL = [Check("balance_match", False, "ours 1 venue 2"), Check("pnl_match", True, "")]


def test_a_trip_raises_the_trip_and_the_failure_keyed_to_the_episode() -> None:
    opened, change = observe(Breaker(), FAIL, T0)
    alerts = alerts_for(FAIL, opened, change)
    assert [a.alert_kind for a in alerts] == ["breaker.open", "assertion.failed"]
    assert "balance_match" in alerts[0].message and "ours 1 venue 2" in alerts[1].message
    later, again = observe(opened, FAIL, T0 + timedelta(seconds=5))
    repeat = alerts_for(FAIL, later, again)
    assert [(a.alert_kind, a.dedupe_key, a.event_ts) for a in repeat] == [
        (alerts[1].alert_kind, alerts[1].dedupe_key, alerts[1].event_ts)
    ]


def test_a_new_episode_after_a_reset_alerts_again_and_a_closed_breaker_never_does() -> None:
    opened, _ = observe(Breaker(), FAIL, T0)
    closed, _ = reset(opened, "ops", T0 + timedelta(seconds=1))
    assert alerts_for([Check("pnl_match", True, "")], closed, None) == []
    reopened, change = observe(closed, FAIL, T0 + timedelta(seconds=2))
    keys = {(a.dedupe_key, a.event_ts) for a in alerts_for(FAIL, reopened, change)}
    first = {(a.dedupe_key, a.event_ts) for a in alerts_for(FAIL, *observe(Breaker(), FAIL, T0))}
    assert keys.isdisjoint(first)
