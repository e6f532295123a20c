"""GET /health: assertions, breaker, feeds' last-tick ages, the lock holder, database pool use and
clock offsets; 200 when healthy, 503 (same body) when not. The verdict is core.health's."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import psycopg
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from psycopg_pool import PoolTimeout
from pydantic import BaseModel, Field

from core.health import FeedAge, PoolUse, evaluate
from sinks.postgres.assertion_table import latest_results, read_breaker
from sinks.postgres.health_reads import clock_offsets, feed_rows, lock_rows

__all__ = ["router"]

router = APIRouter(tags=["health"])

DATABASE_WAIT_S = 3.0  # a health check answers quickly, even when the database does not


class AssertionView(BaseModel):
    name: str
    passed: bool
    detail: str
    event_ts: datetime


class BreakerView(BaseModel):
    state: str
    cause: str
    evidence: str
    since: datetime | None


class FeedView(BaseModel):
    feed: str
    measured_at: datetime
    last_tick_age_ms: Decimal | None
    report_age_s: float


class LockView(BaseModel):
    name: str
    holder: str
    heartbeat_at: datetime


class PoolView(BaseModel):
    in_use: int
    max_size: int
    waiting: int


class Health(BaseModel):
    healthy: bool
    problems: list[str]
    checked_at: datetime
    breaker: BreakerView | None = Field(description="None when the database cannot be read")
    assertions: list[AssertionView]
    feeds: list[FeedView]
    locks: list[LockView]
    pool: PoolView
    clock_offsets_ms: dict[str, Decimal]


def _pool_use(request: Request) -> PoolView:
    stats = request.app.state.pool.get_stats()
    size, available = stats.get("pool_size", 0), stats.get("pool_available", 0)
    return PoolView(
        in_use=max(size - available, 0),
        max_size=stats.get("pool_max", 0),
        waiting=stats.get("requests_waiting", 0),
    )


@router.get("/health", response_model=Health, responses={503: {"model": Health, "description": "unhealthy"}})
def health(request: Request) -> JSONResponse:
    """The system's health; 503 with the problems when anything is wrong."""
    now: datetime = request.app.state.now()
    pool = _pool_use(request)  # measured before this request takes its own connection
    try:
        with request.app.state.pool.connection(timeout=DATABASE_WAIT_S) as conn:
            breaker = read_breaker(conn)
            results = latest_results(conn)
            feeds = feed_rows(conn)
            locks = lock_rows(conn)
            offsets = {c.source: c.offset_ms for c in clock_offsets(conn)}
    except (psycopg.Error, PoolTimeout) as exc:
        problem = f"database unreachable: {type(exc).__name__}"
        unread = Health(
            healthy=False,
            problems=[problem],
            checked_at=now,
            breaker=None,
            assertions=[],
            feeds=[],
            locks=[],
            pool=pool,
            clock_offsets_ms={},
        )
        return JSONResponse(unread.model_dump(mode="json"), status_code=503)
    problems = evaluate(
        now,
        breaker,
        {r.name: r.passed for r in results},
        [FeedAge(f.feed, f.measured_at, f.last_tick_age_ms) for f in feeds],
        PoolUse(pool.in_use, pool.max_size),
        offsets,
        request.app.state.health_limits,
    )
    body = Health(
        healthy=not problems,
        problems=problems,
        checked_at=now,
        breaker=BreakerView(
            state=breaker.state.value, cause=breaker.cause, evidence=breaker.evidence, since=breaker.since
        ),
        assertions=[
            AssertionView(name=r.name, passed=r.passed, detail=r.detail, event_ts=r.event_ts) for r in results
        ],
        feeds=[
            FeedView(
                feed=f.feed,
                measured_at=f.measured_at,
                last_tick_age_ms=f.last_tick_age_ms,
                report_age_s=(now - f.measured_at).total_seconds(),
            )
            for f in feeds
        ],
        locks=[LockView(name=lk.name, holder=lk.holder, heartbeat_at=lk.heartbeat_at) for lk in locks],
        pool=pool,
        clock_offsets_ms=offsets,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if not problems else 503)
