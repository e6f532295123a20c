"""The circuit breaker as a transition table: any failing assertion opens it, naming the assertion
and its evidence; only an operator reset closes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.assertions import ASSERTION_NAMES, Check
from core.breaker import NEXT, Breaker, BreakerTrigger, InvalidTransition, observe, reset
from core.enums import BreakerState

T0 = datetime(2031, 5, 1, tzinfo=UTC)


def test_a_failure_opens_a_closed_breaker_naming_the_assertion_and_its_evidence() -> None:
    closed = Breaker()
    opened, change = observe(
        closed, [Check("pnl_match", True, ""), Check("balance_match", False, "ours 1")], T0
    )
    assert opened.state is BreakerState.OPEN
    assert opened.cause == "balance_match" and opened.evidence == "ours 1"
    assert change is not None and change.state is BreakerState.OPEN and "balance_match" in change.cause


def test_passing_checks_leave_a_closed_breaker_closed_without_a_change() -> None:
    assert observe(Breaker(), [Check("pnl_match", True, "")], T0) == (Breaker(), None)


def test_only_the_first_failure_while_open_is_the_cause() -> None:
    opened, _ = observe(Breaker(), [Check("pnl_match", False, "a")], T0)
    again, change = observe(opened, [Check("balance_match", False, "b")], T0 + timedelta(seconds=1))
    assert change is None and again.cause == "pnl_match"


def test_a_reset_closes_an_open_breaker_and_a_reset_of_a_closed_one_is_refused() -> None:
    opened, _ = observe(Breaker(), [Check("pnl_match", False, "a")], T0)
    closed, change = reset(opened, "ops: checked the venue", T0)
    assert closed.state is BreakerState.CLOSED and change.state is BreakerState.CLOSED
    assert "ops: checked the venue" in change.cause
    with pytest.raises(InvalidTransition):
        reset(closed, "again", T0)


def test_the_table_has_no_way_from_open_to_closed_but_a_reset() -> None:
    to_closed = {t for (s, t), n in NEXT.items() if s is BreakerState.OPEN and n is BreakerState.CLOSED}
    assert to_closed == {BreakerTrigger.OPERATOR_RESET}


_checks = st.lists(
    st.builds(Check, st.sampled_from(ASSERTION_NAMES), st.booleans(), st.text(max_size=20)), max_size=12
)
_steps = st.lists(st.one_of(_checks, st.just("reset")), max_size=30)


@given(_steps)
def test_any_failure_opens_and_nothing_but_a_reset_closes(steps: list[list[Check] | str]) -> None:
    breaker = Breaker()
    for i, step in enumerate(steps):
        at = T0 + timedelta(seconds=i)
        before = breaker
        if step == "reset":
            if before.state is BreakerState.OPEN:
                breaker, _ = reset(before, "ops", at)
                assert breaker.state is BreakerState.CLOSED
            else:
                with pytest.raises(InvalidTransition):
                    reset(before, "ops", at)
            continue
        assert isinstance(step, list)
        breaker, _ = observe(before, step, at)
        if any(not c.passed for c in step):
            assert breaker.state is BreakerState.OPEN
        if before.state is BreakerState.OPEN:
            assert breaker == before  # nothing but a reset moves an open breaker
        if before.state is BreakerState.CLOSED and all(c.passed for c in step):
            assert breaker.state is BreakerState.CLOSED
