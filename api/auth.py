"""The bearer token every state-changing route needs, compared in constant time.

Attached once, to the private router (STYLE habit 12): its routes are `GuardedRoute`s, which check
the token before anything else, the body included, so a write without the token is a 401 whatever
it carries. The token comes from the environment as a SecretStr and is never logged or echoed; a
missing or wrong token is a 401 that says only that. `bearer_scheme` documents the scheme in the
OpenAPI document."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response, status
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from pydantic import SecretStr

__all__ = ["GuardedRoute", "bearer_guard", "bearer_scheme"]

_CHALLENGE = {"WWW-Authenticate": "Bearer"}

bearer_scheme = HTTPBearer(auto_error=False, description="POLYWINDOW_API_TOKEN")


def bearer_guard(token: SecretStr) -> Callable[[Request], None]:
    expected = token.get_secret_value().encode()

    def guard(request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not given.strip():
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a bearer token is required", _CHALLENGE)
        if not hmac.compare_digest(given.strip().encode(), expected):
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "the bearer token is not valid", _CHALLENGE)

    return guard


class GuardedRoute(APIRoute):
    """A route whose request passes `app.state.guard` before its body is even read."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            request.app.state.guard(request)
            return await handler(request)

        return guarded
