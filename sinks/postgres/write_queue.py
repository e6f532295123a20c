"""One database writer per process: a bounded FIFO of write jobs run by one thread, in order.

Connectors must never wait on PostgreSQL (a socket not read is data lost), and two writes about
one thing (a window's INSERT and its integrity UPDATE, a gap's open and its close) must reach the
database in the order they were decided. So every write is a job handed to `submit`, which only
appends to a bounded queue and returns at once; one thread runs the jobs one after the other.

- A transient failure (psycopg.OperationalError: server gone, connection refused, pool timeout)
  keeps the job at the head of the queue and retries it with jittered backoff until it succeeds:
  nothing after it runs first. The first failure of an outage is reported once.
- Any other failure is reported (a bug or a refused row), counted, and the job is dropped.
- A full queue refuses the job and counts it in `overflow` (reported once per episode): memory
  stays bounded during a long outage, and the loss is visible. A job marked `essential` (gap rows,
  rare and never to be lost) is queued even past the bound.

Failures are handed to `on_failure` (from the writer thread); the process turns them into alerts.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
import structlog

from core.backoff import Backoff

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class WriteFailure:
    """A write that failed (`transient`: it is being retried) or a job refused by a full queue."""

    what: str
    error: str
    transient: bool
    overflow: bool = False


@dataclass(frozen=True, slots=True)
class _Job:
    what: str
    run: Callable[[], object]


def is_transient(exc: BaseException) -> bool:
    """A failure that a later attempt may not meet (the server or the network), not a bad row."""
    return isinstance(exc, psycopg.OperationalError)


class WriteQueue:
    """Runs submitted jobs one at a time, oldest first, on its own thread (start it once)."""

    def __init__(
        self,
        capacity: int = 10_000,
        retry: Backoff | None = None,
        on_failure: Callable[[WriteFailure], None] = lambda _f: None,
        random_fn: Callable[[], float] = random.random,
        name: str = "db-writer",
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self._retry = retry or Backoff(base_s=0.1, cap_s=5.0)
        self._on_failure = on_failure
        self._random = random_fn
        self._jobs: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._busy = False
        self._closing = False
        self._overflowing = False
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self.counts: Counter[str] = Counter()

    def start(self) -> WriteQueue:
        self._thread.start()
        return self

    @property
    def depth(self) -> int:
        """Jobs waiting, the one running included (it leaves the queue once it is done)."""
        with self._cond:
            return len(self._jobs)

    def submit(self, what: str, job: Callable[[], object], *, essential: bool = False) -> bool:
        """Queue `job` behind every job submitted before it; False when refused (queue full)."""
        with self._cond:
            if self._closing:
                raise RuntimeError(f"write queue closed; {what} refused")
            if len(self._jobs) >= self.capacity and not essential:
                self.counts["overflow"] += 1
                first = not self._overflowing
                self._overflowing = True
            else:
                self._jobs.append(_Job(what, job))
                self.counts["submitted"] += 1
                if len(self._jobs) < self.capacity // 2:
                    self._overflowing = False
                self._cond.notify()
                return True
        if first:
            log.error("db.write_queue_full", what=what, capacity=self.capacity)
            self._report(WriteFailure(what, f"write queue full ({self.capacity} jobs)", False, True))
        return False

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until every submitted job has run (or been dropped); False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._jobs and not self._busy, timeout_s)

    def close(self, timeout_s: float = 10.0) -> bool:
        """Refuse new jobs, run what is queued for up to `timeout_s`, stop; False if some were left."""
        drained = self.wait_idle(timeout_s) if self._thread.is_alive() else not self._jobs
        with self._cond:
            self._closing = True
            left = len(self._jobs)
            self._cond.notify_all()
        if left:
            log.error("db.write_queue_abandoned", jobs=left)
        if self._thread.is_alive():
            self._thread.join(timeout=max(1.0, timeout_s))
        return drained

    def _serve(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: bool(self._jobs) or self._closing)
                if self._closing:
                    self._jobs.clear()
                    self._cond.notify_all()
                    return
                job = self._jobs[0]
                self._busy = True
            self._run(job)
            with self._cond:
                self._jobs.popleft()
                self._busy = False
                self._cond.notify_all()

    def _run(self, job: _Job) -> None:
        attempt = 0
        while True:
            try:
                job.run()
                self.counts["written"] += 1
                if attempt:
                    log.info("db.write_recovered", what=job.what, attempts=attempt + 1)
                return
            except Exception as exc:  # classified below: retried in place, or reported and dropped
                error = f"{type(exc).__name__}: {str(exc)[:300]}"
                if not is_transient(exc):
                    self.counts["failed"] += 1
                    log.error("db.write_failed", what=job.what, error=error)
                    self._report(WriteFailure(job.what, error, transient=False))
                    return
                self.counts["retried"] += 1
                if attempt == 0:
                    log.warning("db.write_retrying", what=job.what, error=error)
                    self._report(WriteFailure(job.what, error, transient=True))
            delay = self._retry.delay(min(attempt, 16), self._random)
            attempt += 1
            with self._cond:
                if self._cond.wait_for(lambda: self._closing, delay):
                    return

    def _report(self, failure: WriteFailure) -> None:
        try:
            self._on_failure(failure)
        except Exception:  # a failing reporter must not stop the writer
            log.exception("db.write_report_failed", what=failure.what)
