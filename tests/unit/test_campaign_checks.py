"""The campaign checks: each point of the canary chain fails on its own evidence and names it; the
P&L and balance checks agree to the cent whatever the trades; the stop triggers; the checklist and
the LIVE gate."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.campaign_checklist import (
    ChecklistEvidence,
    RunSummary,
    checklist,
    is_simulator_address,
    live_gate,
)
from core.campaign_checks import (
    OrderEvidence,
    PositionEvidence,
    RunEvidence,
    TradeEvidence,
    WindowEvidence,
    run_checks,
    venue_cash_usd,
    window_checks,
)
from core.campaign_stops import (
    STOP_VARIANTS,
    TriggerEvidence,
    slippage_summary,
    trigger_checks,
    variant_checks,
)
from core.fees import FeeSchedule, trade_fee

D = Decimal
VID = "0x" + "ab" * 32


def _window(**changes: object) -> WindowEvidence:
    """A lost canary window: 6 Up bought at 0.50 with the fee the schedule charges, resolved Down."""
    fee = trade_fee(FeeSchedule(rate=D("0.07"), exponent=1), D(6), D("0.50"))
    trade = TradeEvidence("t-1", VID, "11", "BUY", D("0.50"), D(6), fee)
    base = WindowEvidence(
        window_id="btc-updown-5m-1",
        instrument="btc-5m",
        up_token_id="11",
        down_token_id="12",
        signal_ids=("s-1",),
        orders=(OrderEvidence("pw-1", VID, "BUY", "FILLED", D(6)),),
        our_fills=(trade,),
        venue_trades=(trade,),
        positions=(
            PositionEvidence("p-1", "11", "CLOSED", D(0), D(6), -(D(3) + fee), True, "window_ended", None),
        ),
        our_outcome="DOWN",
        venue_outcome="DOWN",
        payout_usd=D(0),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _failed(w: WindowEvidence) -> set[str]:
    return {c.name for c in window_checks(w) if not c.passed}


def test_a_clean_window_passes_every_point() -> None:
    assert _failed(_window()) == set()


@pytest.mark.parametrize(
    ("changes", "failing"),
    [
        ({"signal_ids": ()}, {"signal"}),
        ({"orders": (OrderEvidence("pw-1", VID, "BUY", "UNKNOWN", D(0)),)}, {"order"}),
        ({"our_outcome": "UNDECIDABLE"}, {"resolution", "venue_resolution"}),
        ({"our_outcome": "UP"}, {"venue_resolution"}),
        ({"venue_outcome": None}, {"venue_resolution"}),
    ],
    ids=["no-signal", "unknown-order", "undecidable", "disagrees", "unresolved"],
)
def test_each_broken_point_fails_by_name(changes: dict[str, object], failing: set[str]) -> None:
    assert _failed(_window(**changes)) == failing


def test_a_venue_trade_we_never_recorded_fails_the_fill_check_naming_it() -> None:
    w = _window()
    extra = TradeEvidence("t-2", "0x" + "cd" * 32, "11", "BUY", D("0.5"), D(2), D(0))
    [fill] = [c for c in window_checks(replace(w, venue_trades=(*w.venue_trades, extra))) if c.name == "fill"]
    assert not fill.passed and "t-2" in fill.evidence


def test_an_open_position_fails_settlement_and_monitoring_when_never_decided() -> None:
    open_ = PositionEvidence("p-1", "11", "MONITORING", D(6), D(6), D(0), False, "", None)
    assert _failed(_window(positions=(open_,))) >= {"settlement", "monitoring"}


def test_a_pnl_a_cent_off_the_venue_fails() -> None:
    w = _window()
    [p] = w.positions
    assert _failed(replace(w, positions=(replace(p, realized_pnl_usd=p.realized_pnl_usd - D("0.01")),))) == {
        "pnl"
    }


prices = st.decimals(min_value=D("0.01"), max_value=D("0.99"), places=2)
sizes = st.decimals(min_value=D(1), max_value=D(500), places=2)


@given(st.lists(st.tuples(st.sampled_from(["BUY", "SELL"]), prices, sizes), min_size=1, max_size=8))
def test_venue_cash_is_the_signed_sum_of_trades_net_of_fees(
    trades: list[tuple[str, Decimal, Decimal]],
) -> None:
    schedule = FeeSchedule(rate=D("0.07"), exponent=1)
    found = tuple(
        TradeEvidence(f"t{i}", VID, "11", side, p, s, trade_fee(schedule, s, p))
        for i, (side, p, s) in enumerate(trades)
    )
    cash = venue_cash_usd(found, D(0))
    bought = sum((t.price * t.size + t.fee_usd for t in found if t.side == "BUY"), D(0))
    sold = sum((t.price * t.size - t.fee_usd for t in found if t.side == "SELL"), D(0))
    assert cash == sold - bought
    assert venue_cash_usd(found, D(7)) == cash + 7


@given(
    st.decimals(min_value=D(-50), max_value=D(50), places=6),
    st.decimals(min_value=D(0), max_value=D("0.0049"), places=6),
)
def test_the_balance_check_agrees_to_the_cent_and_no_further(pnl: Decimal, noise: Decimal) -> None:
    before = D(1000)
    ok = run_checks(RunEvidence(before, before + pnl, pnl, 0, ()), [])
    assert next(c for c in ok if c.name == "balance").passed
    off = run_checks(RunEvidence(before, before + pnl + D("0.02") + noise, pnl, 0, ()), [])
    assert not next(c for c in off if c.name == "balance").passed


def test_both_outcomes_are_wanted() -> None:
    up = _window(venue_outcome="UP", our_outcome="UP")
    [*_rest, both] = run_checks(RunEvidence(D(1), D(1), D(0), 0, ()), [_window()])
    assert not both.passed and "DOWN" in both.evidence
    [*_rest, both] = run_checks(RunEvidence(D(1), D(1), D(0), 0, ()), [_window(), up])
    assert both.passed


def _trigger(**changes: object) -> TriggerEvidence:
    base = TriggerEvidence(
        variant="A",
        window_id="w",
        position_id="p",
        reason="STOP_LOSS",
        entry_price=D("0.50"),
        mark=D("0.47"),
        previous_mark=D("0.49"),
        threshold=D("0.475"),
        trigger_ms=1_000,
        exit_order_ms=1_120,
        exit_status="FILLED",
        exit_size_matched=D(6),
        position_size=D(6),
        position_state="CLOSED",
        intended_price=D("0.47"),
        actual_price=D("0.46"),
        our_sell_cash_usd=D("2.74"),
        venue_sell_cash_usd=D("2.74"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_clean_trigger_passes_and_records_its_slippage() -> None:
    checks = trigger_checks(_trigger())
    assert all(c.passed for c in checks), checks
    assert slippage_summary([_trigger()]) == {"count": "1", "min": "-0.01", "median": "-0.01", "max": "-0.01"}


@pytest.mark.parametrize(
    ("changes", "failing"),
    [
        ({"previous_mark": D("0.47")}, "trigger_price"),  # it should have fired a tick earlier
        ({"mark": D("0.48")}, "trigger_price"),
        ({"exit_order_ms": 3_000}, "exit_delay"),
        ({"exit_status": "REJECTED"}, "exit_filled"),
        ({"position_state": "EXIT_PENDING"}, "position_closed"),
        ({"venue_sell_cash_usd": D("2.70")}, "exit_balance"),
    ],
)
def test_each_trigger_fault_fails_its_own_check(changes: dict[str, object], failing: str) -> None:
    assert {c.name for c in trigger_checks(_trigger(**changes)) if not c.passed} == {failing}


def test_the_control_variant_fails_when_it_fires_and_the_others_when_they_do_not() -> None:
    e, a = STOP_VARIANTS["E"], STOP_VARIANTS["A"]
    assert all(c.passed for c in variant_checks(e, 5, []))
    assert not variant_checks(e, 5, [_trigger(variant="E")])[1].passed
    assert not variant_checks(a, 5, [])[1].passed
    assert not variant_checks(a, 4, [_trigger()])[0].passed


def _run(kind: str, windows: int, checks: set[str], passed: bool = True) -> RunSummary:
    return RunSummary(f"{kind}-1", kind, windows, passed, 0, frozenset(checks))


def test_the_checklist_confirms_only_with_evidence() -> None:
    empty = checklist(ChecklistEvidence((), "http://127.0.0.1:8501", False))
    assert [line.status for line in empty] == ["MISSING"] * 4
    runs = (
        _run("canary", 20, {"kill_switch.PAUSE", "kill_switch.FLATTEN", "kill_switch.EMERGENCY"}),
        _run("stops", 25, {"A.fired", "B.fired", "C.fired", "D.fired", "E.never_fires"}),
    )
    full = checklist(ChecklistEvidence(runs, "http://127.0.0.1:8501", True))
    assert [line.status for line in full] == ["CONFIRMED"] * 4
    failed_canary = (_run("canary", 20, set(), passed=False), *runs[1:])
    assert checklist(ChecklistEvidence(failed_canary, "x", True))[0].status == "MISSING"
    no_e = (runs[0], _run("stops", 25, {"A.fired", "B.fired", "C.fired", "D.fired"}))
    line = checklist(ChecklistEvidence(no_e, "x", True))[1]
    assert line.status == "MISSING" and "E" in line.where
    a_trigger_failed = replace(runs[1], passed=False, failed_variants=frozenset({"A"}))
    line = checklist(ChecklistEvidence((runs[0], a_trigger_failed), "x", True))[1]
    assert line.status == "MISSING" and line.where.endswith(": A")
    d_later = _run("stops", 5, {"D.fired"}, passed=True)
    line = checklist(ChecklistEvidence((runs[0], a_trigger_failed, d_later), "x", True))[1]
    assert line.status == "MISSING", "A's trigger failed: not verified by the other run either"


@pytest.mark.parametrize(
    ("url", "sim"),
    [
        ("http://127.0.0.1:8765", True),
        ("http://localhost:1", True),
        ("http://[::1]:80", True),
        ("https://clob.example.com", False),
        ("http://10.0.0.1:8765", False),
    ],
)
def test_only_loopback_is_the_simulator(url: str, sim: bool) -> None:
    assert is_simulator_address(url) is sim


def test_the_live_gate_refuses_a_real_venue_until_complete_or_overridden_with_a_reason() -> None:
    missing = checklist(ChecklistEvidence((), "x", False))
    assert live_gate("http://127.0.0.1:8765", missing, None).allowed
    refused = live_gate("https://clob.example.com", missing, None)
    assert not refused.allowed and "MISSING" in refused.reason
    assert not live_gate("https://clob.example.com", missing, "   ").allowed
    over = live_gate("https://clob.example.com", missing, "desk approved")
    assert over.allowed and over.overridden
    done = [replace(line, confirmed=True) for line in missing]
    assert live_gate("https://clob.example.com", done, None) == live_gate(
        "https://clob.example.com", done, None
    )
    assert live_gate("https://clob.example.com", done, None).allowed


def test_the_canary_campaigns_registration_is_one_live_accepts() -> None:
    from core.campaign_checks import CANARY_PARAMS, canary_registration
    from core.strategy_review import live_refusal

    reg = canary_registration(("btc-5m",))
    assert reg.expectation is not None
    assert (
        live_refusal("canary", dict(CANARY_PARAMS), reg.params, True) is None
    )  # what the campaign's flow runs
    assert live_refusal("canary", {}, reg.params, True) is not None


def test_only_an_entry_the_venue_killed_whole_under_fak_is_set_apart() -> None:
    from core.campaign_checks import FAK_NO_MATCH, killed_by_fak

    venue_said = f"400: {FAK_NO_MATCH}. FAK orders are partially filled or killed if no match is found."
    assert killed_by_fak("REJECTED", Decimal(0), venue_said)
    assert not killed_by_fak("REJECTED", Decimal(0), "400: not enough balance / allowance")  # judged: fails
    assert not killed_by_fak("REJECTED", Decimal(0), None)
    assert not killed_by_fak("PARTIALLY_FILLED", Decimal("0.5"), venue_said)  # money moved: judged
    assert not killed_by_fak("UNKNOWN", Decimal(0), venue_said)
