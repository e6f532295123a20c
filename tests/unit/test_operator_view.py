"""The dashboard's computed values: feed-age colours at their thresholds, the mode line, drawdown."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.operator_view import FeedColour, drawdown, feed_colour, operator_mode, position_outcome


@pytest.mark.parametrize(
    ("age_ms", "colour"),
    [
        (Decimal(0), FeedColour.GREEN),
        (Decimal("1999.9"), FeedColour.GREEN),
        (Decimal(2000), FeedColour.YELLOW),
        (Decimal("4999"), FeedColour.YELLOW),
        (Decimal(5000), FeedColour.RED),
        (Decimal(600_000), FeedColour.RED),
        (None, FeedColour.RED),
    ],
)
def test_feed_colour_green_under_2s_yellow_under_5s_red_beyond(
    age_ms: Decimal | None, colour: FeedColour
) -> None:
    assert feed_colour(age_ms) is colour


@pytest.mark.parametrize(
    ("controls", "mode"),
    [
        ({"trading_mode": "DRY_RUN", "kill_switch": "RUN"}, "DRY_RUN"),
        ({"trading_mode": "LIVE", "kill_switch": "PAUSE"}, "LIVE"),
        ({"trading_mode": "PAPER", "kill_switch": "FLATTEN"}, "PAPER"),
        ({"trading_mode": "LIVE", "kill_switch": "EMERGENCY"}, "STOPPED"),
        ({}, "STOPPED"),
    ],
)
def test_operator_mode_is_stopped_on_emergency_or_no_controls(controls: dict[str, str], mode: str) -> None:
    assert operator_mode(controls) == mode


def test_drawdown_is_distance_below_the_running_best() -> None:
    steps = [Decimal(5), Decimal(-3), Decimal(-4), Decimal(10), Decimal(-1)]
    assert drawdown(steps) == [Decimal(0), Decimal(-3), Decimal(-7), Decimal(0), Decimal(-1)]


def test_drawdown_of_a_first_loss_counts_from_zero() -> None:
    assert drawdown([Decimal(-2)]) == [Decimal(-2)]


@given(st.lists(st.decimals(min_value=-1000, max_value=1000, places=2), max_size=50))
def test_drawdown_is_never_positive_and_one_per_step(steps: list[Decimal]) -> None:
    out = drawdown(steps)
    assert len(out) == len(steps)
    assert all(d <= 0 for d in out)


@pytest.mark.parametrize(
    ("state", "pnl", "outcome"),
    [
        ("MONITORING", Decimal(3), "open"),
        ("CLOSED", Decimal("0.01"), "won"),
        ("CLOSED", Decimal("-0.01"), "lost"),
        ("CLOSED", Decimal(0), "even"),
    ],
)
def test_position_outcome_is_open_until_closed_then_by_pnl(state: str, pnl: Decimal, outcome: str) -> None:
    assert position_outcome(state, pnl) == outcome
