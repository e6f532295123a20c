"""Window integrity: our resolution from oracle ticks against the venue's outcome and conditionId."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.enums import OracleStream, Outcome, WindowPhase
from core.models import OracleTick, WindowEvent
from core.settlement import Settlement
from core.window_checks import WindowChecks, WindowVerdict, judge
from core.window_integrity import (
    OracleHistory,
    check_window,
    our_outcome_label,
    rule_from_name,
)

START = datetime(2026, 6, 8, 8, 15, tzinfo=UTC)
CID = "0x" + "f4" * 32


def window(outcome: Outcome | None, rule: str = "CHAINLINK_TWAP(60)", cid: str = CID) -> WindowEvent:
    return WindowEvent(
        source_ts=START + timedelta(minutes=6),
        recv_ts=START + timedelta(minutes=6),
        phase=WindowPhase.RESOLVED if outcome else WindowPhase.OPEN,
        window_id="btc-updown-5m-1780906500",
        asset="btc",
        interval_s=300,
        condition_id=cid,
        up_token_id="1",
        down_token_id="2",
        start_ts=START,
        end_ts=START + timedelta(minutes=5),
        settlement_rule=rule,
        venue_outcome=outcome,
    )


def tick(
    at: datetime, price: str, stream: OracleStream = OracleStream.CHAINLINK_TWAP_60, sid: str = "x"
) -> OracleTick:
    return OracleTick(
        source_ts=at, recv_ts=at, source_id=sid, symbol="btc/usd", stream=stream, price=Decimal(price)
    )


def history(*ticks: OracleTick) -> OracleHistory:
    h = OracleHistory()
    for t in ticks:
        h.add(t)
    return h


def settle(resolved: WindowEvent, *ticks: OracleTick) -> Settlement | str:
    """Our settlement as the flow computes it: the window's checks fed the prints routed to it."""
    checks = WindowChecks(resolved.model_copy(update={"phase": WindowPhase.OPEN}))
    for t in ticks:
        if t.source_ts >= START:  # the router admits nothing stamped before the start
            checks.apply_oracle(t)
    return checks.settle()


def first_ms(*ticks: OracleTick) -> int | None:
    return min((int(t.source_ts.timestamp() * 1000) for t in ticks), default=None)


def test_rule_names_map_back_to_rules() -> None:
    assert rule_from_name("CHAINLINK_TWAP(60)", "btc").twap_seconds == 60  # type: ignore[union-attr]
    assert rule_from_name("CHAINLINK_SPOT", "eth").symbol == "eth/usd"  # type: ignore[union-attr]
    assert rule_from_name("BINANCE_1H_CANDLE", "sol").symbol == "solusdt"  # type: ignore[union-attr]
    assert rule_from_name(None, "btc") is None and rule_from_name("MOON", "btc") is None


def test_agreeing_resolution_has_no_discrepancy() -> None:
    ours = settle(window(Outcome.UP), tick(START, "100"), tick(START + timedelta(minutes=5), "101"))
    assert check_window(window(Outcome.UP), window(None), ours) == []


def test_disagreeing_outcome_and_changed_condition_id_are_both_reported() -> None:
    resolved = window(Outcome.UP, cid="0x" + "aa" * 32)
    ours = settle(resolved, tick(START, "100"), tick(START + timedelta(minutes=5), "99"))
    found = check_window(resolved, window(None), ours)
    assert {(d.kind, d.ours, d.venue) for d in found} == {
        ("condition_id", CID, "0x" + "aa" * 32),
        ("outcome", "DOWN", "UP"),
    }


def test_a_missing_boundary_tick_is_undecidable_never_a_guess() -> None:
    ticks = tick(START, "100"), tick(START + timedelta(minutes=5), "101", stream=OracleStream.CHAINLINK_SPOT)
    found = check_window(window(Outcome.DOWN), None, settle(window(Outcome.DOWN), *ticks))
    assert [d.kind for d in found] == ["undecidable"] and "close" in found[0].detail


def test_a_backfill_point_never_replaces_an_exact_print() -> None:
    h = history(tick(START, "100"), tick(START, "100.5", sid="~backfill"))
    assert h.prices("btc/usd", OracleStream.CHAINLINK_TWAP_60) == {
        int(START.timestamp() * 1000): Decimal("100")
    }


def test_discrepancy_alerts_are_critical_for_mismatches_and_warnings_when_undecidable() -> None:
    from datetime import UTC, datetime

    from core.enums import Severity
    from core.window_integrity import Discrepancy, discrepancy_alert

    at = datetime(2026, 6, 8, 8, 21, tzinfo=UTC)
    mismatch = discrepancy_alert("btc-updown-5m-1780906500", Discrepancy("outcome", "UP", "DOWN", "x"), at)
    unknown = discrepancy_alert(
        "btc-updown-5m-1780906500", Discrepancy("undecidable", "UNDECIDABLE", "UP", "y"), at
    )
    assert mismatch.severity is Severity.CRITICAL and mismatch.alert_kind == "window.outcome"
    assert unknown.severity is Severity.WARNING
    assert mismatch.dedupe_key != unknown.dedupe_key


def verdict(resolved: WindowEvent, *ticks: OracleTick) -> WindowVerdict:
    key = "CHAINLINK_TWAP_60:btc/usd"
    return WindowVerdict(resolved, window(None), settle(resolved, *ticks), key)


def test_a_window_that_opened_before_our_data_began_is_not_observed_not_undecidable() -> None:
    """Our data of the stream began mid-window (a flow started then): no warning for it."""
    ticks = tick(START + timedelta(seconds=40), "100"), tick(START + timedelta(minutes=5), "101")
    result = judge(verdict(window(Outcome.UP), *ticks), first_ms(*ticks))
    assert result.discrepancies == () and result.outcome == "NOT_OBSERVED"


def test_a_hole_after_our_data_began_is_still_undecidable() -> None:
    """Prints from before the start, the start print itself missing: a real hole, a warning."""
    ticks = tick(START - timedelta(seconds=30), "99"), tick(START + timedelta(minutes=5), "101")
    result = judge(verdict(window(Outcome.UP), *ticks), first_ms(*ticks))
    [found] = result.discrepancies
    assert found.kind == "undecidable" and result.outcome == "UNDECIDABLE"


def test_no_print_at_all_is_not_observed_and_a_decided_window_keeps_its_verdict() -> None:
    assert judge(verdict(window(Outcome.UP)), None).outcome == "NOT_OBSERVED"
    ticks = tick(START, "100"), tick(START + timedelta(minutes=5), "101")
    assert judge(verdict(window(Outcome.UP), *ticks), first_ms(*ticks)).outcome == "UP"
    assert our_outcome_label(settle(window(Outcome.UP), *ticks)) == "UP"
