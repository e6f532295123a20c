"""Window checks: a window's integrity and completeness from the events routed to it (core only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from core.enums import OracleStream, Outcome, Severity, WindowPhase
from core.models import WindowEvent
from core.routing import Expire, WindowInput
from core.window_checks import (
    CompletenessRow,
    Coverage,
    WindowChecks,
    WindowVerdict,
    coverage_key,
    judge,
    step,
)
from core.window_state import CandleOpen
from tests.trading_builders import START, UP, book, oracle, window

END = START + timedelta(seconds=300)
START_MS = int(START.timestamp() * 1000)


def resolved(outcome: Outcome = Outcome.UP, **kw: object) -> WindowEvent:
    event = window(WindowPhase.RESOLVED, at=END + timedelta(seconds=60), **kw)  # type: ignore[arg-type]
    return event.model_copy(update={"venue_outcome": outcome})


def run(items: Sequence[WindowInput]) -> tuple[WindowChecks | None, list[object]]:
    state: WindowChecks | None = None
    out: list[object] = []
    for item in items:
        state, produced = step(state, item)
        out.extend(produced)
    return state, out


def verdict_of(out: list[object]) -> WindowVerdict:
    found = [o for o in out if isinstance(o, WindowVerdict)]
    assert len(found) == 1, out
    return found[0]


def test_a_window_decided_by_its_prints_agrees_with_the_venue_and_is_dropped() -> None:
    state, out = run([window(), oracle(START, "100"), oracle(END, "101"), resolved(Outcome.UP)])
    assert state is None
    result = judge(verdict_of(out), START_MS - 60_000)
    assert result.outcome == "UP" and result.discrepancies == () and result.alerts == ()


def test_our_outcome_against_the_venues_is_a_critical_alert() -> None:
    _, out = run([window(), oracle(START, "100"), oracle(END, "99"), resolved(Outcome.UP)])
    result = judge(verdict_of(out), START_MS)
    assert result.outcome == "DOWN"
    assert [d.kind for d in result.discrepancies] == ["outcome"]
    assert result.alerts[0].severity is Severity.CRITICAL


def test_a_condition_id_changed_since_discovery_is_a_discrepancy() -> None:
    other = resolved().model_copy(update={"condition_id": "0x" + "cd" * 32})
    _, out = run([window(), oracle(START, "100"), oracle(END, "101"), other])
    assert [d.kind for d in judge(verdict_of(out), START_MS).discrepancies] == ["condition_id"]


def test_a_missing_print_after_our_data_began_is_undecidable_and_a_warning() -> None:
    _, out = run([window(), oracle(START + timedelta(seconds=1), "100"), oracle(END, "101"), resolved()])
    result = judge(verdict_of(out), START_MS - 1000)
    assert result.outcome == "UNDECIDABLE"
    assert [a.severity for a in result.alerts] == [Severity.WARNING]


def test_a_window_its_rule_cannot_apply_to_is_undecidable_with_the_reason_never_a_crash() -> None:
    """An announced start off the second (bad input) reaches the rule at resolution: said, not raised."""
    odd = START + timedelta(microseconds=614770)
    announced = window().model_copy(update={"start_ts": odd})
    done = resolved().model_copy(update={"start_ts": odd})
    _, out = run([announced, oracle(START, "100"), oracle(END, "101"), done])
    result = judge(verdict_of(out), START_MS - 60_000)
    assert result.outcome == "UNDECIDABLE"
    assert any("second-aligned" in a.message for a in result.alerts)


def test_a_window_that_started_before_our_data_began_is_not_observed_and_raises_nothing() -> None:
    first = START + timedelta(seconds=40)
    _, out = run([window(), oracle(first, "100"), oracle(END, "101"), resolved()])
    result = judge(verdict_of(out), int(first.timestamp() * 1000))
    assert result.outcome == "NOT_OBSERVED" and result.alerts == () and result.discrepancies == ()


def test_a_backfill_point_never_replaces_an_exact_print() -> None:
    exact = oracle(START, "100")
    backfill = oracle(START, "200").model_copy(update={"source_id": "~backfill"})
    _, out = run([window(), exact, backfill, oracle(END, "150"), resolved(Outcome.UP)])
    assert judge(verdict_of(out), START_MS).outcome == "UP"


def test_prints_of_another_stream_or_symbol_do_not_decide_the_window() -> None:
    twap = oracle(START, "100", stream=OracleStream.CHAINLINK_TWAP_60)
    eth = oracle(END, "101", symbol="eth/usd")
    _, out = run([window(), twap, eth, resolved()])
    assert judge(verdict_of(out), START_MS).outcome == "UNDECIDABLE"


def test_an_hourly_window_settles_on_its_closed_candle_only() -> None:
    hourly = window(interval_s=3600, rule="BINANCE_1H_CANDLE")
    end = START + timedelta(hours=1)
    running = CandleOpen("btcusdt", 3600, START, Decimal(100), Decimal(99), START + timedelta(seconds=3))
    closed = CandleOpen("btcusdt", 3600, START, Decimal(100), Decimal(105), end, closed=True)
    late_running = CandleOpen("btcusdt", 3600, START, Decimal(100), Decimal(90), end, closed=False)
    done = window(
        WindowPhase.RESOLVED, interval_s=3600, rule="BINANCE_1H_CANDLE", at=end + timedelta(minutes=1)
    )
    done = done.model_copy(update={"venue_outcome": Outcome.UP})
    _, out = run([hourly, running, closed, late_running, done])
    assert judge(verdict_of(out), START_MS).outcome == "UP"
    _, out = run([hourly, running, done])
    assert judge(verdict_of(out), START_MS).outcome == "UNDECIDABLE"


def test_completeness_is_due_once_when_the_data_passes_the_end() -> None:
    ticks = [oracle(START + timedelta(seconds=s), "100") for s in range(0, 300, 2)]
    _, out = run([window(), *ticks])
    assert out == []
    _, out = run([window(), *ticks, oracle(END, "100"), oracle(END + timedelta(seconds=1), "100")])
    rows = [o for o in out if isinstance(o, CompletenessRow)]
    assert [(r.feed, r.percent, r.at) for r in rows] == [("rtds", Decimal("50.00"), END)]
    _, out = run([window(), *ticks, oracle(END, "100"), resolved()])
    assert len([o for o in out if isinstance(o, CompletenessRow)]) == 1


def test_a_window_resolved_before_its_end_was_seen_still_gets_its_completeness() -> None:
    _, out = run([window(), oracle(START, "100"), resolved()])
    rows = [o for o in out if isinstance(o, CompletenessRow)]
    assert [(r.percent, r.window_id) for r in rows] == [(Decimal("0.33"), window().window_id)]


def test_coverage_keeps_the_first_print_of_its_stream() -> None:
    coverage = Coverage()
    coverage.tick(START_MS + 5000)
    coverage.tick(START_MS - 1000)
    coverage.tick(START_MS + 9000)
    assert coverage.first_ms == START_MS - 1000
    assert coverage_key(WindowChecks(window()).rule) == "CHAINLINK_SPOT:btc/usd"


offsets = st.lists(st.integers(min_value=-30, max_value=400), max_size=30)


@settings(max_examples=200, deadline=None)
@given(offsets, st.integers(min_value=-60, max_value=400), st.booleans())
def test_any_sequence_gives_one_verdict_one_completeness_and_drops_the_state(
    seconds: list[int], data_from_s: int, agree: bool
) -> None:
    """Whatever prints arrive, a resolution yields exactly one verdict and one completeness row and
    drops the state; a window that started before our data began is never UNDECIDABLE, and only an
    outcome, conditionId or undecidable discrepancy ever alerts."""
    items: list[WindowInput] = [window()]
    items += [oracle(START + timedelta(seconds=s), str(100 + s)) for s in seconds if s >= 0]
    state, out = run([*items, resolved(Outcome.UP if agree else Outcome.DOWN)])
    assert state is None
    assert len([o for o in out if isinstance(o, CompletenessRow)]) == 1
    result = judge(verdict_of(out), START_MS + data_from_s * 1000)
    if data_from_s > 0:
        assert result.outcome != "UNDECIDABLE"
    assert len(result.alerts) == len(result.discrepancies)
    assert {d.kind for d in result.discrepancies} <= {"outcome", "undecidable"}


def test_an_expired_window_gives_its_completeness_and_is_dropped_without_a_verdict() -> None:
    """The router gave up on a window never resolved (it sends Expire): its state goes, with its row."""
    state, out = run([window(), oracle(START, "100"), Expire(END + timedelta(hours=2))])
    assert state is None
    assert [type(o) for o in out] == [CompletenessRow]


def test_completeness_waits_for_the_oracles_own_clock_not_another_feeds() -> None:
    """Books stamped after the end may come before the oracle's last prints (another partition):
    only a print of the window's symbol past the end makes its completeness due."""
    ticks = [oracle(START + timedelta(seconds=s), "100") for s in range(0, 299)]
    late_book = book(UP, END + timedelta(seconds=1), "0.50", "0.52")
    _, out = run([window(), *ticks, late_book])
    assert out == []
    _, out = run(
        [window(), *ticks, late_book, oracle(START + timedelta(seconds=299), "100"), oracle(END, "1")]
    )
    assert [(r.percent, r.at) for r in out if isinstance(r, CompletenessRow)] == [(Decimal("100.00"), END)]
