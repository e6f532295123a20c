"""One window's failing step stops that window only: the flow goes on for every other window."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import ClassVar

import pytest

from core.enums import WindowPhase
from core.models import OrderIntent, Quarantined, Signal
from core.strategies.base import REGISTRY, StrategyParams, register
from core.window_fault import SOURCE
from core.window_state import WindowState
from tests.flows.test_trading_flow import END, T60, _rec, _run
from tests.trading_builders import DOWN, START, UP, WINDOW, book, oracle, snapshot, window

ETH_WINDOW = "eth-updown-5m-1780906500"
ETH_CONDITION = "0x" + "cd" * 32
ETH_UP, ETH_DOWN = "3333", "4444"


class _ExplodesOnBtc:
    """A strategy with a bug that only one window meets."""

    name: ClassVar[str] = "explodes_on_btc"
    params_type: ClassVar[type[StrategyParams]] = StrategyParams

    def __init__(self, params: StrategyParams) -> None:
        self.params = params

    def evaluate(self, state: WindowState, now: datetime) -> Signal | None:
        if state.window_id == WINDOW:
            raise ZeroDivisionError("a strategy bug")
        return None


def _eth_book(token: str, at: datetime, bid: str, ask: str) -> object:
    return book(token, at, bid, ask).model_copy(update={"condition_id": ETH_CONDITION})


def _two_windows() -> list[object]:
    eth = window(window_id=ETH_WINDOW, up=ETH_UP, down=ETH_DOWN, asset="eth")
    events = [
        window(),
        eth.model_copy(update={"condition_id": ETH_CONDITION}),
        snapshot(START),
        oracle(START, "100000"),
        oracle(START, "3000", symbol="eth/usd"),
        book(UP, START + timedelta(seconds=1), "0.60", "0.62"),
        book(DOWN, START + timedelta(seconds=1), "0.38", "0.40"),
        _eth_book(ETH_UP, START + timedelta(seconds=1), "0.60", "0.62"),
        _eth_book(ETH_DOWN, START + timedelta(seconds=1), "0.38", "0.40"),
        snapshot(T60),
        book(UP, T60 + timedelta(seconds=1), "0.60", "0.62"),
        _eth_book(ETH_UP, T60 + timedelta(seconds=1), "0.60", "0.62"),
        book(UP, T60 + timedelta(seconds=2), "0.60", "0.62"),
        window(phase=WindowPhase.RESOLVED, at=END + timedelta(seconds=5)),
        book(UP, T60 + timedelta(seconds=3), "0.60", "0.62"),
    ]
    return [_rec(e, offset=i) for i, e in enumerate(events)]  # type: ignore[arg-type]


@pytest.fixture
def explodes_on_btc() -> Iterator[str]:
    """The buggy strategy registered for one test only (other tests ask every registered strategy)."""
    register(_ExplodesOnBtc.name, StrategyParams)(_ExplodesOnBtc)
    try:
        yield _ExplodesOnBtc.name
    finally:
        REGISTRY.pop(_ExplodesOnBtc.name, None)


def test_a_window_whose_step_raises_stops_alone_and_is_reported_once(explodes_on_btc: str) -> None:
    out = _run(_two_windows(), strategies={explodes_on_btc: {}, "canary": {}})  # type: ignore[arg-type]

    intents: list[OrderIntent] = out["intents"]
    assert [i.window_id for i in intents] == [ETH_WINDOW]
    faults = [q for q in out["quarantine"] if isinstance(q, Quarantined) and q.source == SOURCE]
    assert len(faults) == 1, out["quarantine"]
    assert WINDOW in faults[0].reason and "ZeroDivisionError" in faults[0].reason
    assert faults[0].raw  # the input that met the bug is kept whole
