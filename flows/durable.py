"""Outputs that survive a killed run: JSON lines on disk, each item written at most once.

A flow run with Bytewax recovery resumes from its last snapshot and emits again whatever came out
between that snapshot and the kill (at-least-once). The outputs themselves are the record of what
was emitted, so each sink partition learns, when it is built, the identities already in every part
file of its output (all workers' parts: a resumed run may put an item on another worker), and
refuses each of those once when it comes again. Nothing is added to that set during a run (the flow
is deterministic: a run emits each identity once), so it only shrinks.

Every batch is flushed and fsynced before `write_batch` returns, and Bytewax commits a snapshot only
after the sinks have finished its epoch, so everything before the resume point is on disk. A line
torn by a kill (no newline at the end of a part) belongs to the epoch after the snapshot: it is cut
off, and the item is emitted again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Generic, TypeVar

from bytewax.outputs import DynamicSink, StatelessSinkPartition
from pydantic import BaseModel

__all__ = ["JsonLinesSink", "read_parts"]

M = TypeVar("M", bound=BaseModel)


def _parts(directory: Path, name: str) -> list[Path]:
    return sorted(directory.glob(f"{name}.*.jsonl"))


def _cut_torn_tail(path: Path) -> None:
    """Drop a last line without its newline (a write cut by a kill)."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)


def read_parts(directory: Path, name: str, model: type[M]) -> Iterator[M]:
    """Every complete item of output `name`, part by part (a torn last line is skipped)."""
    for part in _parts(directory, name):
        for line in part.read_bytes().split(b"\n"):
            if line:
                try:
                    yield model.model_validate_json(line)
                except ValueError:
                    continue  # the torn tail of a part whose writer was killed


class _JsonLinesPartition(StatelessSinkPartition[M], Generic[M]):
    def __init__(self, path: Path, identity: Callable[[M], str], refuse: set[str]) -> None:
        self._identity = identity
        self._refuse = refuse
        self._file = path.open("ab")

    def write_batch(self, items: list[M]) -> None:
        lines: list[bytes] = []
        for item in items:
            key = self._identity(item)
            if key in self._refuse:
                self._refuse.discard(key)  # emitted before the kill: refused once, then forgotten
                continue
            lines.append(item.model_dump_json().encode() + b"\n")
        if lines:
            self._file.write(b"".join(lines))
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


class JsonLinesSink(DynamicSink[M], Generic[M]):
    """Items of `model` as JSON lines in `directory/<name>.<worker>.jsonl`, none written twice
    across a kill and a resume (see the module docstring)."""

    def __init__(self, directory: Path, name: str, model: type[M], identity: Callable[[M], str]) -> None:
        self._dir = directory
        self._name = name
        self._model = model
        self._identity = identity

    def build(self, step_id: str, worker_index: int, worker_count: int) -> _JsonLinesPartition[M]:
        self._dir.mkdir(parents=True, exist_ok=True)
        own = self._dir / f"{self._name}.{worker_index}.jsonl"
        if own.exists():
            _cut_torn_tail(own)
        known = {self._identity(item) for item in read_parts(self._dir, self._name, self._model)}
        return _JsonLinesPartition(own, self._identity, known)
