"""Durable JSON-lines outputs: what a killed run wrote is not written again when it resumes."""

from __future__ import annotations

from pathlib import Path

import bytewax.operators as op
from bytewax.dataflow import Dataflow
from bytewax.testing import TestingSource, run_main

from core.enums import ControlName
from core.models import ControlChange
from flows.durable import JsonLinesSink, read_parts
from tests.trading_builders import START


def _change(n: int) -> ControlChange:
    return ControlChange(name=ControlName.KILL_SWITCH, value="RUN", updated_by=f"op{n}", updated_at=START)


def _sink(where: Path) -> JsonLinesSink[ControlChange]:
    return JsonLinesSink(where, "changes", ControlChange, lambda c: c.updated_by)


def _run(where: Path, items: list[ControlChange]) -> None:
    flow = Dataflow("durable")
    op.output("out", op.input("in", flow, TestingSource(items)), _sink(where))
    run_main(flow)


def test_items_a_killed_run_wrote_are_refused_once_and_a_torn_line_is_written_again(tmp_path: Path) -> None:
    _run(tmp_path, [_change(1), _change(2)])
    part = tmp_path / "changes.0.jsonl"
    with part.open("ab") as f:  # the kill cut the third item's line
        f.write(_change(3).model_dump_json().encode()[:20])

    _run(tmp_path, [_change(2), _change(3), _change(4)])  # resumed: 2 again (after the snapshot)

    assert [c.updated_by for c in read_parts(tmp_path, "changes", ControlChange)] == [
        "op1",
        "op2",
        "op3",
        "op4",
    ]
    assert part.read_bytes().endswith(b"\n")


def test_an_item_written_by_another_worker_before_the_kill_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "changes.1.jsonl").write_text(_change(7).model_dump_json() + "\n")
    _run(tmp_path, [_change(7), _change(8)])
    assert sorted(c.updated_by for c in read_parts(tmp_path, "changes", ControlChange)) == ["op7", "op8"]
