"""The bearer token every state-changing route needs, compared in constant time.

Attached once, where the private router is mounted (STYLE habit 12). The token comes from the
environment as a SecretStr and is never logged or echoed; a missing or wrong token is a 401 that
says only that."""

from __future__ import annotations

import hmac
from collections.abc import Callable

from fastapi import HTTPException, Request, status
from pydantic import SecretStr

__all__ = ["bearer_guard"]

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


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
