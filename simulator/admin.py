"""Admin routes under `/_admin` (token header `X-Admin-Token`) and the HTTP fault middleware.

Admin calls are how tests and operators inject faults at run time: switch HTTP latency, 5xx, 429,
lost order responses, rejections, partial fills, failed trades, market-feed stalls, duplicated,
reordered and malformed frames; drop websockets; set any balance or exchange allowance from outside.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from simulator.exchange import Exchange
from simulator.faults import FaultState, FaultUpdate
from simulator.protocol import account_key
from simulator.ws_market import MarketHub
from simulator.ws_user import UserHub

ADMIN_PREFIX = "/_admin"
CONTROL_PREFIX = "/_"  # the simulator's own routes (`/_admin`, `/_sim`): never hurt by HTTP faults
TOKEN_HEADER = "x-admin-token"


class BalanceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str
    asset: str = "COLLATERAL"
    amount: Decimal


class AllowanceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str
    spender: str
    amount: Decimal


class DisconnectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str = "all"


class AdminApi:
    def __init__(self, token: str, exchange: Exchange, market_hub: MarketHub, user_hub: UserHub) -> None:
        self._token = token
        self.ex = exchange
        self.market_hub = market_hub
        self.user_hub = user_hub

    def mount(self) -> Mount:
        routes = [
            Route("/faults", self.get_faults, methods=["GET"]),
            Route("/faults", self.set_faults, methods=["POST"]),
            Route("/faults/reset", self.reset_faults, methods=["POST"]),
            Route("/balance", self.set_balance, methods=["POST"]),
            Route("/allowance", self.set_allowance, methods=["POST"]),
            Route("/ws", self.sockets, methods=["GET"]),
            Route("/ws/disconnect", self.disconnect, methods=["POST"]),
        ]
        return Mount(ADMIN_PREFIX, routes=routes)

    def _authorised(self, request: Request) -> bool:
        return secrets.compare_digest(request.headers.get(TOKEN_HEADER, ""), self._token)

    async def _body(self, request: Request, model: type[BaseModel]) -> BaseModel | Response:
        if not self._authorised(request):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        try:
            return model.model_validate(json.loads(await request.body() or b"{}"))
        except (ValueError, ValidationError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)

    async def get_faults(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        return JSONResponse(self.ex.faults.snapshot())

    async def set_faults(self, request: Request) -> Response:
        body = await self._body(request, FaultUpdate)
        if isinstance(body, Response):
            return body
        assert isinstance(body, FaultUpdate)
        self.ex.faults.apply(body)
        return JSONResponse(self.ex.faults.snapshot())

    async def reset_faults(self, request: Request) -> Response:
        if not self._authorised(request):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        self.ex.faults.reset()
        return JSONResponse(self.ex.faults.snapshot())

    async def set_balance(self, request: Request) -> Response:
        body = await self._body(request, BalanceUpdate)
        if isinstance(body, Response):
            return body
        assert isinstance(body, BalanceUpdate)
        self.ex.set_balance(body.address, body.asset, body.amount)
        return JSONResponse({"address": body.address, "asset": body.asset, "balance": str(body.amount)})

    async def set_allowance(self, request: Request) -> Response:
        """What an account approved an exchange contract to move (the venue reports it per spender)."""
        body = await self._body(request, AllowanceUpdate)
        if isinstance(body, Response):
            return body
        assert isinstance(body, AllowanceUpdate)
        self.ex.ledger.set_allowance(account_key(body.address), body.spender, body.amount)
        return JSONResponse({"address": body.address, "spender": body.spender, "allowance": str(body.amount)})

    async def sockets(self, request: Request) -> Response:
        """How many market and (authenticated) user sockets are open: what a disconnect would close."""
        if not self._authorised(request):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        return JSONResponse({"market": len(self.market_hub.conns), "user": len(self.user_hub.conns)})

    async def disconnect(self, request: Request) -> Response:
        body = await self._body(request, DisconnectRequest)
        if isinstance(body, Response):
            return body
        assert isinstance(body, DisconnectRequest)
        closed = 0
        if body.channel in ("market", "all"):
            closed += self.market_hub.disconnect_all()
        if body.channel in ("user", "all"):
            closed += self.user_hub.disconnect_all()
        return JSONResponse({"closed": closed})


class HttpFaultMiddleware:
    """Applies latency, injected 5xx and 429 to every HTTP request outside `/_admin` and `/_sim`."""

    def __init__(self, app: ASGIApp, faults: FaultState) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        if self.faults.latency_ms:
            await asyncio.sleep(self.faults.latency_ms / 1000)
        if self.faults.take("rate_limit_count"):
            headers = {"Retry-After": str(self.faults.retry_after_s)}
            await JSONResponse({"error": "Too Many Requests"}, status_code=429, headers=headers)(
                scope, receive, send
            )
            return
        if self.faults.http_error_applies(path):
            body = {"error": self.faults.http_error_message}
            await JSONResponse(body, status_code=self.faults.http_error_status)(scope, receive, send)
            return
        await self.app(scope, receive, send)
