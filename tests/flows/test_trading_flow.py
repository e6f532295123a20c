"""The trading flow end to end on Bytewax's testing source and sink (no Kafka)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from bytewax.testing import TestingSink, TestingSource, run_main

from core.enums import ControlName, WindowPhase
from core.models import Candle, ControlChange, Event, IntentRejected, OrderIntent, Quarantined, Signal
from core.serde import encode
from core.window_state import CandleOpen
from flows.trading import (
    CONTROLS_TABLE,
    RawRecord,
    TradingFlowSettings,
    TradingSinks,
    build_flow,
    candle_open,
)
from tests.trading_builders import DOWN, START, UP, WINDOW, book, oracle, snapshot, window

END = START + timedelta(seconds=300)
T60 = END - timedelta(seconds=60)

_TOPIC = {"window": "md.windows", "book": "md.book", "oracle": "md.oracle", "control": "ctl.controls"}


def _rec(event: Event, offset: int = 0) -> RawRecord:
    topic = CONTROLS_TABLE if getattr(event, "kind", "") == "controls_snapshot" else _TOPIC[event.kind]  # type: ignore[attr-defined]
    return RawRecord(topic=topic, value=encode(event), recv_ts=START, partition=0, offset=offset)


def _run(records: list[RawRecord], **settings: Any) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {"signals": [], "intents": [], "rejections": [], "quarantine": []}
    sinks = TradingSinks(
        signals=TestingSink(out["signals"]),
        intents=TestingSink(out["intents"]),
        rejections=TestingSink(out["rejections"]),
        quarantine=TestingSink(out["quarantine"]),
    )
    run_main(build_flow(TestingSource(records), sinks, TradingFlowSettings(**settings)))
    return out


def _window_day(controls_at_t60: Event) -> list[RawRecord]:
    return [
        _rec(window()),
        _rec(snapshot(START)),
        _rec(oracle(START, "100000")),
        _rec(book(UP, START + timedelta(seconds=1), "0.60", "0.62")),
        _rec(book(DOWN, START + timedelta(seconds=1), "0.38", "0.40")),
        _rec(controls_at_t60),
        _rec(book(UP, T60, "0.60", "0.62")),
        _rec(book(UP, T60 + timedelta(seconds=1), "0.60", "0.62")),
    ]


def test_the_canary_signal_becomes_one_intent_with_its_context() -> None:
    out = _run(_window_day(snapshot(T60)))
    assert [type(s) for s in out["signals"]] == [Signal]
    assert [type(i) for i in out["intents"]] == [OrderIntent]
    intent = out["intents"][0]
    assert intent.window_id == WINDOW and intent.signal_id == out["signals"][0].signal_id
    assert intent.context is not None and intent.context.strike is not None
    assert out["rejections"] == [] and out["quarantine"] == []


def test_the_same_input_run_twice_gives_the_same_intent_id() -> None:
    first = _run(_window_day(snapshot(T60)))["intents"]
    second = _run(_window_day(snapshot(T60)))["intents"]
    assert [i.client_order_id for i in first] == [i.client_order_id for i in second] != []


def test_a_kill_switch_change_on_ctl_controls_turns_the_signal_into_a_rejection() -> None:
    pause = ControlChange(name=ControlName.KILL_SWITCH, value="PAUSE", updated_by="api", updated_at=T60)
    out = _run(_window_day(pause))
    assert out["intents"] == []
    assert [r.rule for r in out["rejections"]] == ["kill_switch"]
    assert isinstance(out["rejections"][0], IntentRejected)


def test_stale_controls_are_not_traded_on() -> None:
    records = _window_day(snapshot(START))
    records[5] = _rec(oracle(T60 - timedelta(seconds=5), "100001"))  # no fresh table read near T-60
    out = _run(records)
    assert [r.rule for r in out["rejections"]] == ["controls_stale"]


def test_a_book_stamped_before_the_start_is_the_book_the_window_opens_with_and_nothing_decides_early() -> (
    None
):
    """`feeds` subscribes to a window's tokens before it starts: that snapshot is its book (only
    deltas follow). Before the start nothing is decided on it; at T-60 the canary is."""
    early = [
        _rec(window()),
        _rec(book(UP, START - timedelta(seconds=1), "0.60", "0.62")),
        _rec(book(DOWN, START - timedelta(seconds=1), "0.38", "0.40")),
        _rec(snapshot(START - timedelta(seconds=1))),
        _rec(oracle(START - timedelta(seconds=1), "100000", symbol="btc/usd")),
    ]
    assert _run(early)["signals"] == []
    out = _run([*early, _rec(snapshot(T60)), _rec(oracle(T60, "100000"))])
    assert [s.event_ts for s in out["signals"]] == [T60]


def test_nothing_is_decided_for_a_resolved_window() -> None:
    records = [
        *_window_day(snapshot(START))[:5],
        _rec(window(WindowPhase.RESOLVED, at=START + timedelta(seconds=2))),
        _rec(snapshot(T60)),
        _rec(book(UP, T60, "0.60", "0.62")),
    ]
    out = _run(records)
    assert out["signals"] == [] and out["intents"] == []


def test_undecodable_values_and_bad_control_values_go_to_quarantine() -> None:
    records = [
        RawRecord(topic="md.book", value=b"not json", recv_ts=START, partition=2, offset=41),
        RawRecord(topic="md.unknown", value=b"{}", recv_ts=START),
        _rec(snapshot(START, kill_switch="GO"), offset=7),
    ]
    out = _run(records)
    quarantined = out["quarantine"]
    assert all(isinstance(q, Quarantined) for q in quarantined)
    assert sorted((q.topic, q.offset) for q in quarantined) == sorted(
        [("md.book", 41), ("md.unknown", None), (CONTROLS_TABLE, 7)]
    )
    assert next(q for q in quarantined if q.topic == "md.book").raw == b"not json"


def test_a_candle_from_md_spot_becomes_the_window_states_strike_seam() -> None:
    """The md.spot candle model lands on another branch; its fields map onto `CandleOpen`."""
    candle = Candle(
        symbol="btcusdt",
        venue="binance",
        interval_s=3600,
        open_ts=START,
        open=Decimal("100.1"),
        high=Decimal("100.5"),
        low=Decimal("100.0"),
        close=Decimal("100.4"),
        closed=False,
        source_ts=START + timedelta(seconds=3),
        recv_ts=START + timedelta(seconds=3),
    )
    assert candle_open(candle) == CandleOpen(
        "btcusdt", 3600, START, Decimal("100.1"), Decimal("100.4"), START + timedelta(seconds=3)
    )


def test_market_data_much_older_than_the_controls_is_not_traded_on() -> None:
    """A backlog read after a start (or a lagging flow) meets controls read just now: no trade."""
    records = _window_day(snapshot(T60 + timedelta(seconds=5)))
    out = _run(records)
    assert out["intents"] == []
    assert [r.rule for r in out["rejections"]] == ["data_stale"]
