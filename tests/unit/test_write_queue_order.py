"""The writer's ordering, as a property: whatever mix of transient failures (retried in place) and
definite failures (reported, dropped) the jobs meet, the jobs that succeed run exactly once each,
in submission order, and every definite failure is reported once."""

from __future__ import annotations

from functools import partial

import psycopg
from hypothesis import given, settings
from hypothesis import strategies as st

from core.backoff import Backoff
from sinks.postgres.write_queue import WriteFailure, WriteQueue

# Per job: how many times it fails transiently first, and whether it then fails for good.
JOBS = st.lists(st.tuples(st.integers(0, 3), st.booleans()), max_size=30)


@settings(max_examples=40, deadline=None)
@given(jobs=JOBS)
def test_successful_jobs_run_once_each_in_submission_order(jobs: list[tuple[int, bool]]) -> None:
    done: list[int] = []
    reports: list[WriteFailure] = []
    left = {n: transient for n, (transient, _) in enumerate(jobs)}

    def job(n: int, definite: bool) -> None:
        if left[n] > 0:
            left[n] -= 1
            raise psycopg.OperationalError("server closed the connection")
        if definite:
            raise ValueError(f"row {n} refused")
        done.append(n)

    writes = WriteQueue(retry=Backoff(base_s=0.0001, cap_s=0.001), on_failure=reports.append).start()
    for n, (_transient, definite) in enumerate(jobs):
        assert writes.submit(f"job {n}", partial(job, n, definite))
    assert writes.wait_idle(10)
    writes.close()
    assert done == [n for n, (_t, definite) in enumerate(jobs) if not definite]
    assert sorted(r.what for r in reports if not r.transient) == sorted(
        f"job {n}" for n, (_t, definite) in enumerate(jobs) if definite
    )
    assert writes.counts["retried"] == sum(t for t, _ in jobs)
