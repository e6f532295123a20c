"""`create_app(deps)`: the control API (FastAPI). Reads are open; every state-changing route sits on
the private router, guarded by the bearer token. The OpenAPI document is at /openapi.json (and
/docs). Everything it needs is passed in (the composition root builds it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from psycopg_pool import ConnectionPool, PoolTimeout
from pydantic import SecretStr

from api.auth import bearer_guard, bearer_scheme
from api.control_service import ControlService
from api.live import LiveFeed
from api.routes import controls, health, history, live, stream
from api.stream import Broadcaster
from core.health import HealthLimits
from core.models import Event

__all__ = ["ApiDeps", "create_app"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ApiDeps:
    pool: ConnectionPool
    token: SecretStr
    publish: Callable[[str, Event], None]
    now: Callable[[], datetime] = _utc_now
    health_limits: HealthLimits = field(default_factory=HealthLimits)
    broadcaster: Broadcaster = field(default_factory=Broadcaster)
    live: LiveFeed | None = None  # the live view of md.* (GET /api/live); None: 503 there


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database away (refused, timed out, pool exhausted): a 503 saying so; nothing was changed
    that is not in the table (a control's write and its audit row are one transaction)."""
    return JSONResponse({"detail": f"database unavailable ({type(exc).__name__}); retry"}, status_code=503)


def create_app(deps: ApiDeps) -> FastAPI:
    app = FastAPI(
        title="polywindow control API",
        version="1",
        description="Runtime controls, kill switch, circuit breaker, health, history, the live view of each instrument's "
        "current window and a live event stream. "
        "State-changing routes need `Authorization: Bearer <POLYWINDOW_API_TOKEN>`.",
    )
    app.add_exception_handler(psycopg.OperationalError, _database_unavailable)
    app.add_exception_handler(PoolTimeout, _database_unavailable)
    app.state.pool = deps.pool
    app.state.now = deps.now
    app.state.health_limits = deps.health_limits
    app.state.broadcaster = deps.broadcaster
    app.state.live = deps.live
    app.state.controls = ControlService(deps.pool, deps.publish, deps.now)
    app.include_router(health.router)
    app.include_router(controls.public)
    app.include_router(history.router)
    app.include_router(stream.router)
    app.include_router(live.router)
    app.state.guard = bearer_guard(deps.token)
    app.include_router(
        controls.private,
        dependencies=[Depends(bearer_scheme)],
        responses={401: {"description": "no bearer token, or not the right one; nothing changed"}},
    )
    return app
