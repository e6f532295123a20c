"""Controls, the kill switch and the breaker reset: reads are open, writes need the token (the
guard is attached where `private` is mounted)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field

from api.auth import GuardedRoute
from api.control_service import ControlService, Outcome
from api.text import StoredText
from core.breaker import InvalidTransition
from core.enums import KillSwitch
from sinks.postgres.trading_reads import read_controls

__all__ = ["private", "public"]

public = APIRouter(tags=["controls"])
private = APIRouter(tags=["controls"], route_class=GuardedRoute)

Who = Annotated[
    StoredText, Field(min_length=1, max_length=100, description="who asks (recorded in the audit log)")
]
Why = Annotated[
    StoredText, Field(min_length=1, max_length=1000, description="why (recorded in the audit log)")
]


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")
    who: Who
    why: Why


class ControlRequest(Reason):
    name: StoredText = Field(min_length=1, max_length=100, description="one of the six runtime controls")
    value: StoredText = Field(
        max_length=10_000, description='canonical text: PAUSE, 5.50, ["btc-5m"] or btc-5m,eth-5m'
    )


class Changed(BaseModel):
    name: str
    value: str
    previous: str | None
    published: bool = Field(description="also on its topic (the table is the truth either way)")
    at: datetime


class ControlView(BaseModel):
    value: str
    updated_by: str
    updated_at: datetime


class Action(StrEnum):
    pause = "pause"
    flatten = "flatten"
    emergency = "emergency"
    resume = "resume"


_SWITCH = {
    Action.pause: KillSwitch.PAUSE,
    Action.flatten: KillSwitch.FLATTEN,
    Action.emergency: KillSwitch.EMERGENCY,
    Action.resume: KillSwitch.RUN,
}


def service(request: Request) -> ControlService:
    found: ControlService = request.app.state.controls
    return found


Service = Annotated[ControlService, Depends(service)]


def _changed(outcome: Outcome) -> Changed:
    return Changed(
        name=outcome.name,
        value=outcome.value,
        previous=outcome.previous,
        published=outcome.published,
        at=outcome.at,
    )


@public.get("/api/controls", response_model=dict[str, ControlView])
def show_controls(request: Request) -> dict[str, ControlView]:
    """The six runtime controls as the table holds them."""
    with request.app.state.pool.connection() as conn:
        snapshot = read_controls(conn, request.app.state.now())
    return {
        row.name.value: ControlView(value=row.value, updated_by=row.updated_by, updated_at=row.updated_at)
        for row in snapshot.rows
    }


@private.post(
    "/api/controls", response_model=Changed, responses={400: {"description": "a bad name or value"}}
)
def set_control(body: ControlRequest, controls: Service) -> Changed:
    """Set one runtime control: validated, written to runtime_controls, published on ctl.controls, audited."""
    try:
        return _changed(controls.set_control(body.name, body.value, body.who, body.why))
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None


@private.post("/api/kill-switch/{action}", response_model=Changed)
def kill_switch(action: Action, body: Reason, controls: Service) -> Changed:
    """PAUSE (no new entries), FLATTEN (exit everything), EMERGENCY (also cancel all and stop) or
    RESUME (RUN): sets the kill_switch control like POST /api/controls."""
    return _changed(controls.set_control("kill_switch", _SWITCH[action].value, body.who, body.why))


@private.post(
    "/api/breaker/reset", response_model=Changed, responses={409: {"description": "the breaker is not open"}}
)
def reset_breaker(body: Reason, controls: Service) -> Changed:
    """Close the open circuit breaker (audited); the next failing assertion opens it again."""
    try:
        return _changed(controls.reset_breaker(body.who, body.why))
    except InvalidTransition as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
