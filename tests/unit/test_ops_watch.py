"""The watcher's decisions: drawdown past a threshold, UNKNOWN orders, open feed gaps, the health
verdict and database connection use as alerts, each keyed so one episode is delivered once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.enums import Severity
from core.health import PoolUse
from core.ops_watch import (
    ClosedPnl,
    Episodes,
    Novelty,
    OpenGap,
    UnknownOrder,
    drawdown,
    drawdown_alerts,
    feed_gap_alerts,
    health_alert,
    pool_alert,
    recovered_alert,
    unknown_order_alerts,
)

DAY = date(2031, 5, 1)
T0 = datetime(2031, 5, 1, 9, tzinfo=UTC)


def pnl(minutes: int, usd: str, mode: str = "DRY_RUN") -> ClosedPnl:
    return ClosedPnl(mode, T0 + timedelta(minutes=minutes), Decimal(usd))


def test_drawdown_is_the_worst_fall_from_a_peak_starting_at_zero() -> None:
    assert drawdown([pnl(0, "10"), pnl(1, "-25"), pnl(2, "5"), pnl(3, "-3")]) == Decimal(25)
    assert drawdown([pnl(0, "-4"), pnl(1, "-4")]) == Decimal(8)
    assert drawdown([pnl(0, "3"), pnl(1, "7")]) == Decimal(0)


@given(st.lists(st.decimals(min_value=-100, max_value=100, places=2), max_size=30))
def test_drawdown_matches_every_pair_of_points(values: list[Decimal]) -> None:
    cum = [Decimal(0)]
    for v in values:
        cum.append(cum[-1] + v)
    worst = max((cum[i] - cum[j] for i in range(len(cum)) for j in range(i, len(cum))), default=Decimal(0))
    assert drawdown([pnl(i, str(v)) for i, v in enumerate(values)]) == worst


def test_drawdown_past_the_threshold_alerts_once_per_mode_and_day_at_the_crossing() -> None:
    rows = [pnl(0, "10"), pnl(5, "-30"), pnl(9, "-40"), pnl(1, "-1", "LIVE")]
    alerts = drawdown_alerts(rows, DAY, Decimal(50))
    assert len(alerts) == 1
    a = alerts[0]
    assert a.alert_kind == "pnl.drawdown" and a.severity is Severity.CRITICAL
    assert a.dedupe_key == "DRY_RUN:2031-05-01" and a.event_ts == T0 + timedelta(minutes=9)
    assert "70" in a.message and "50" in a.message
    assert drawdown_alerts(rows, DAY, Decimal(70)) == []  # at the threshold is not past it


def test_rows_of_another_day_do_not_count() -> None:
    rows = [ClosedPnl("LIVE", T0 - timedelta(days=1), Decimal(-500))]
    assert drawdown_alerts(rows, DAY, Decimal(50)) == []


def test_an_unknown_order_alerts_keyed_by_its_id() -> None:
    order = UnknownOrder("c-1", "LIVE", "btc-5m-1", T0, "no status code")
    (a,) = unknown_order_alerts([order])
    assert a.alert_kind == "order.unknown" and a.dedupe_key == "c-1" and a.event_ts == T0
    assert "c-1" in a.message and "btc-5m-1" in a.message and "no status code" in a.message


def test_an_open_feed_gap_has_the_identity_the_feeds_give_it() -> None:
    (a,) = feed_gap_alerts([OpenGap("market", T0, "silent 5 s")])
    assert a.alert_kind == "feed.gap" and a.dedupe_key == f"feed.gap:market:{T0.isoformat()}"
    assert "market" in a.message and "silent 5 s" in a.message


def test_an_episode_starts_when_the_condition_holds_and_ends_when_it_clears() -> None:
    ep = Episodes()
    assert ep.update("health", False, T0) is None
    assert ep.update("health", True, T0) == T0
    assert ep.update("health", True, T0 + timedelta(seconds=10)) == T0
    assert ep.update("health", False, T0 + timedelta(seconds=20)) is None
    later = T0 + timedelta(seconds=30)
    assert ep.update("health", True, later) == later
    assert ep.update("health", False, later) is None and ep.open == {}


def test_health_and_pool_alerts_are_keyed_by_their_episode() -> None:
    h = health_alert(["circuit breaker OPEN: pnl_match: x", "feed rtds silent"], T0)
    assert h.alert_kind == "health.failing" and h.dedupe_key == T0.isoformat() and h.event_ts == T0
    assert "feed rtds silent" in h.message
    p = pool_alert(PoolUse(9, 10), T0)
    assert p.alert_kind == "db.pool_high" and p.dedupe_key == T0.isoformat() and "9/10" in p.message


def test_novelty_passes_an_alert_once_while_it_keeps_being_found_and_forgets_what_is_gone() -> None:
    novelty = Novelty()
    (a,) = unknown_order_alerts([UnknownOrder("c-1", "LIVE", "w", T0, "")])
    (b,) = unknown_order_alerts([UnknownOrder("c-2", "LIVE", "w", T0, "")])
    assert novelty.new([a]) == [a]
    assert novelty.new([a, b]) == [b]
    assert novelty.new([b]) == []
    assert novelty.new([a]) == [a] and novelty.seen == {(a.alert_kind, a.dedupe_key)}


def test_an_episode_restored_from_the_alerts_table_keeps_its_start() -> None:
    ep = Episodes()
    ep.restore("health", T0)
    assert ep.update("health", True, T0 + timedelta(minutes=5)) == T0


def test_the_end_of_an_episode_is_said_under_the_episode_key() -> None:
    r = recovered_alert("health.failing", T0, T0 + timedelta(minutes=3))
    assert r.alert_kind == "health.recovered" and r.severity is Severity.INFO
    assert r.dedupe_key == T0.isoformat() and r.event_ts == T0 + timedelta(minutes=3)
    assert "180 s" in r.message
    assert recovered_alert("db.pool_high", T0, T0).alert_kind == "db.pool_recovered"
