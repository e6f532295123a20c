"""The circuit breaker as a transition table (STYLE habit 3).

CLOSED -> OPEN on any failing assertion, recording which one and its evidence; nothing but an
operator reset closes it again. While OPEN the executor sends no entry. The `breaker_events` table
is the truth across processes (its latest row is the state); `observe` and `reset` return the new
breaker and the `BreakerChange` to record and publish, or None when nothing changed. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from core.assertions import Check
from core.enums import BreakerState
from core.models import BreakerChange

__all__ = ["NEXT", "Breaker", "BreakerTrigger", "InvalidTransition", "observe", "reset"]

S = BreakerState


class BreakerTrigger(StrEnum):
    ASSERTION_PASSED = "ASSERTION_PASSED"
    ASSERTION_FAILED = "ASSERTION_FAILED"
    OPERATOR_RESET = "OPERATOR_RESET"


T = BreakerTrigger

NEXT: dict[tuple[BreakerState, BreakerTrigger], BreakerState] = {
    (S.CLOSED, T.ASSERTION_PASSED): S.CLOSED,
    (S.CLOSED, T.ASSERTION_FAILED): S.OPEN,
    (S.OPEN, T.ASSERTION_PASSED): S.OPEN,
    (S.OPEN, T.ASSERTION_FAILED): S.OPEN,
    (S.OPEN, T.OPERATOR_RESET): S.CLOSED,
}
"""Every allowed (state, trigger) pair; a reset of a closed breaker is not one (InvalidTransition)."""


class InvalidTransition(ValueError):
    """A trigger the breaker's state does not allow."""


@dataclass(frozen=True, slots=True)
class Breaker:
    """The breaker's state; while OPEN, `cause` names the assertion that opened it and `evidence` why."""

    state: BreakerState = S.CLOSED
    cause: str = ""
    evidence: str = ""
    since: datetime | None = None


def _step(state: BreakerState, trigger: BreakerTrigger) -> BreakerState:
    try:
        return NEXT[(state, trigger)]
    except KeyError:
        raise InvalidTransition(
            f"{trigger.value} is not allowed while the breaker is {state.value}"
        ) from None


def observe(breaker: Breaker, checks: Sequence[Check], at: datetime) -> tuple[Breaker, BreakerChange | None]:
    """The breaker after one tick's checks: the first failure opens a closed breaker."""
    for check in checks:
        trigger = T.ASSERTION_PASSED if check.passed else T.ASSERTION_FAILED
        state = _step(breaker.state, trigger)
        if state is not breaker.state:
            opened = Breaker(S.OPEN, check.name, check.evidence, at)
            cause = f"{check.name}: {check.evidence}"[:1000]
            return opened, BreakerChange(state=S.OPEN, cause=cause, event_ts=at)
    return breaker, None


def reset(breaker: Breaker, why: str, at: datetime) -> tuple[Breaker, BreakerChange]:
    """An operator's reset: closes an open breaker (InvalidTransition when it is not open)."""
    _step(breaker.state, T.OPERATOR_RESET)
    closed = Breaker(S.CLOSED, "", "", at)
    return closed, BreakerChange(state=S.CLOSED, cause=f"operator reset: {why}"[:1000], event_ts=at)
