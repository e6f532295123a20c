"""core.window_fault: a faulted window ignores everything but its end."""

from __future__ import annotations

from datetime import timedelta

from core.enums import WindowPhase
from core.routing import Expire
from core.window_fault import after_fault, fault_report
from tests.trading_builders import START, UP, WINDOW, book, window


def test_a_faulted_window_ignores_inputs_until_it_ends() -> None:
    item = book(UP, START, "0.5", "0.6")
    fault, entry = fault_report(WINDOW, item, ValueError("bad"))
    assert after_fault(fault, item) is fault
    assert after_fault(fault, window()) is fault
    assert after_fault(fault, window(phase=WindowPhase.RESOLVED)) is None
    assert after_fault(fault, Expire(at=START + timedelta(hours=2))) is None
    assert entry.recv_ts == item.recv_ts and b"0.5" in entry.raw
    assert "ValueError: bad" in entry.reason and WINDOW in entry.reason
