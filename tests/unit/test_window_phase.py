"""The window phase order has one definition (core.enums); everything else derives from it."""

from __future__ import annotations

from itertools import product

import pytest

from core.enums import WINDOW_PHASE_ORDER, WindowPhase, later_phase, phase_rank


def test_the_order_is_the_lifecycle() -> None:
    assert WINDOW_PHASE_ORDER == (
        WindowPhase.DISCOVERED,
        WindowPhase.OPEN,
        WindowPhase.CLOSED,
        WindowPhase.RESOLVED,
    )
    assert [phase_rank(p) for p in WINDOW_PHASE_ORDER] == list(range(len(WindowPhase)))


@pytest.mark.parametrize(("held", "new"), list(product(WindowPhase, WindowPhase)))
def test_a_later_phase_wins_and_an_earlier_one_never_moves_a_window_back(
    held: WindowPhase, new: WindowPhase
) -> None:
    kept = later_phase(held, new)
    assert kept in (held, new)
    assert phase_rank(kept) == max(phase_rank(held), phase_rank(new))
