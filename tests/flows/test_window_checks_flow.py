"""Window integrity and completeness through the trading flow (Bytewax testing source and sink).

The flow reads md.windows and md.oracle whoever produced them: a feeds process restarted
mid-window, or split with `--only`, leaves nothing for the flow to misjudge."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bytewax.testing import TestingSink, TestingSource, cluster_main, run_main

from core.enums import Outcome, Severity, WindowPhase
from core.models import Alert, Candle, Event, WindowEvent
from core.serde import encode
from core.window_checks import CompletenessRow, IntegrityResult
from flows.trading import RawRecord, TradingFlowSettings, TradingSinks, build_flow
from flows.window_checks import WindowCheckSinks
from tests.trading_builders import START, oracle, window

END = START + timedelta(seconds=300)
_TOPIC = {"window": "md.windows", "oracle": "md.oracle", "book": "md.book"}


def _recs(events: list[Event]) -> list[RawRecord]:
    return [
        RawRecord(_TOPIC[e.kind], encode(e), e.recv_ts, 0, i)  # type: ignore[attr-defined]
        for i, e in enumerate(events)
    ]


def _run(events: list[Event], checks: bool = True) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {"checks": [], "alerts": [], "quarantine": [], "other": []}
    sinks = TradingSinks(
        signals=TestingSink(out["other"]),
        intents=TestingSink(out["other"]),
        rejections=TestingSink(out["other"]),
        quarantine=TestingSink(out["quarantine"]),
        checks=WindowCheckSinks(TestingSink(out["checks"]), TestingSink(out["alerts"])) if checks else None,
    )
    run_main(build_flow(TestingSource(_recs(events)), sinks, TradingFlowSettings()))
    return out


def _resolved(outcome: Outcome, discovered: WindowEvent | None = None) -> WindowEvent:
    base = discovered or window()
    at = END + timedelta(seconds=60)
    return base.model_copy(
        update={"phase": WindowPhase.RESOLVED, "venue_outcome": outcome, "source_ts": at, "recv_ts": at}
    )


def _prints(first_s: int, last_s: int, skip: range = range(0)) -> list[Event]:
    return [
        oracle(START + timedelta(seconds=s), str(100_000 + s))
        for s in range(first_s, last_s + 1)
        if s not in skip
    ]


def _results(out: dict[str, list[Any]]) -> list[IntegrityResult]:
    return [c for c in out["checks"] if isinstance(c, IntegrityResult)]


def _completeness(out: dict[str, list[Any]]) -> list[CompletenessRow]:
    return [c for c in out["checks"] if isinstance(c, CompletenessRow)]


def test_a_resolved_window_gets_our_outcome_and_its_completeness_from_the_flow() -> None:
    out = _run([window(), *_prints(-10, 301), _resolved(Outcome.UP)])
    [result] = _results(out)
    assert (result.window.window_id, result.outcome, result.alerts) == (window().window_id, "UP", ())
    assert [(r.feed, r.percent) for r in _completeness(out)] == [("rtds", Decimal("100.00"))]
    assert out["alerts"] == [] and out["quarantine"] == []


def test_our_outcome_against_the_venues_raises_a_critical_alert_on_ops_alerts() -> None:
    out = _run([window(), *_prints(-10, 301), _resolved(Outcome.DOWN)])
    [result] = _results(out)
    assert result.outcome == "UP"
    assert [(a.alert_kind, a.severity) for a in out["alerts"]] == [("window.outcome", Severity.CRITICAL)]
    assert all(isinstance(a, Alert) for a in out["alerts"])


def test_a_feeds_process_restarted_mid_window_raises_no_undecidable() -> None:
    """The first feeds process produced the start print and died; the restarted one announces the
    window again and produces from mid-window on: the topics hold both, so the window is decided."""
    restarted_at = START + timedelta(seconds=120)
    again = window().model_copy(update={"source_ts": restarted_at, "recv_ts": restarted_at})
    events = [window(), *_prints(-10, 100), again, *_prints(130, 301), _resolved(Outcome.UP)]
    out = _run(events)
    [result] = _results(out)
    assert result.outcome == "UP" and out["alerts"] == []
    assert _completeness(out)[0].percent == Decimal("90.33")  # the restart's hole shows here


def test_split_feeds_processes_raise_no_undecidable() -> None:
    """`feeds --only gamma` announced and resolved the window; `feeds --only rtds`, started later
    in another process, produced the prints: the flow judges the window on both topics."""
    events = [*_prints(-30, -5), window(), *_prints(-4, 301), _resolved(Outcome.UP)]
    [result] = _results(_run(events))
    assert result.outcome == "UP" and result.alerts == ()


def test_a_window_that_started_before_our_data_began_is_not_observed_and_raises_no_alert() -> None:
    out = _run([window(), *_prints(40, 301), _resolved(Outcome.UP)])
    [result] = _results(out)
    assert result.outcome == "NOT_OBSERVED"
    assert out["alerts"] == [] and result.discrepancies == ()


def test_a_missing_start_print_after_our_data_began_is_undecidable_and_a_warning() -> None:
    out = _run([window(), *_prints(-10, 301, skip=range(0, 1)), _resolved(Outcome.UP)])
    [result] = _results(out)
    assert result.outcome == "UNDECIDABLE"
    assert [(a.alert_kind, a.severity) for a in out["alerts"]] == [("window.undecidable", Severity.WARNING)]


def test_without_check_sinks_the_flow_runs_and_writes_no_checks() -> None:
    """Replay passes none: a backtest never writes integrity rows unless asked."""
    out = _run([window(), *_prints(-10, 301), _resolved(Outcome.DOWN)], checks=False)
    assert out["checks"] == [] and out["alerts"] == [] and out["quarantine"] == []


def test_an_hourly_window_is_decided_by_its_closed_candle_from_md_spot() -> None:
    hourly = window(interval_s=3600, rule="BINANCE_1H_CANDLE")
    end = START + timedelta(hours=1)

    def candle(close: str, closed: bool, at: datetime) -> RawRecord:
        event = Candle(
            source_ts=at,
            recv_ts=at,
            symbol="btcusdt",
            venue="binance",
            interval_s=3600,
            open_ts=START,
            open=Decimal(100),
            high=Decimal(110),
            low=Decimal(90),
            close=Decimal(close),
            closed=closed,
        )
        return RawRecord("md.spot", encode(event), at, 0, 0)

    done = _resolved(Outcome.UP, hourly).model_copy(
        update={"source_ts": end + timedelta(minutes=1), "recv_ts": end + timedelta(minutes=1)}
    )
    running = candle("95", False, START + timedelta(seconds=2))
    closed = candle("104", True, end)
    records = [*_recs([hourly]), running, closed, *_recs([done])]
    out: dict[str, list[Any]] = {"checks": [], "alerts": [], "other": []}
    sinks = TradingSinks(
        signals=TestingSink(out["other"]),
        intents=TestingSink(out["other"]),
        rejections=TestingSink(out["other"]),
        quarantine=TestingSink(out["other"]),
        checks=WindowCheckSinks(TestingSink(out["checks"]), TestingSink(out["alerts"])),
    )
    run_main(build_flow(TestingSource(records), sinks, TradingFlowSettings()))
    [result] = _results(out)
    assert (result.outcome, result.alerts) == ("UP", ())


def test_two_workers_give_the_same_results_as_one() -> None:
    """Checks are keyed by window and coverage by stream, so the work splits across workers."""
    other = window(window_id="eth-updown-5m-1780906500", up="3333", down="4444", asset="eth")
    eth = [oracle(START + timedelta(seconds=s), str(3000 + s), symbol="eth/usd") for s in range(-5, 302)]
    events = [window(), other, *_prints(40, 301), *eth, _resolved(Outcome.UP), _resolved(Outcome.DOWN, other)]

    def results(workers: int) -> list[tuple[str, str, int]]:
        out: dict[str, list[Any]] = {"checks": [], "alerts": [], "other": []}
        sinks = TradingSinks(
            signals=TestingSink(out["other"]),
            intents=TestingSink(out["other"]),
            rejections=TestingSink(out["other"]),
            quarantine=TestingSink(out["other"]),
            checks=WindowCheckSinks(TestingSink(out["checks"]), TestingSink(out["alerts"])),
        )
        flow = build_flow(TestingSource(_recs(events)), sinks, TradingFlowSettings())
        if workers == 1:
            run_main(flow)
        else:
            cluster_main(flow, [], 0, worker_count_per_proc=workers)
        return sorted((r.window.window_id, r.outcome, len(r.alerts)) for r in _results(out))

    one = results(1)
    assert one == [(window().window_id, "NOT_OBSERVED", 0), (other.window_id, "UP", 1)]
    assert results(2) == one
