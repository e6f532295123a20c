"""Private CLOB REST routes: API keys (L1) and orders, cancels, reads, balances, heartbeats (L2).

Every L2 handler authenticates over the exact body bytes and the path without query. A posted
order whose HTTP response the fault state says to lose is booked first, then the connection is
dropped (`DroppedResponse`): the client cannot tell whether the order exists.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from simulator.accounts import COLLATERAL
from simulator.auth import ApiKeyStore, Principal
from simulator.clob_public import Handler, PublicApi, page, venue_errors
from simulator.exchange import Exchange, SubmitResult, VenueError
from simulator.signed_order import EXCHANGE_V2, OrderIntake
from simulator.wire import Json, fmt, order_json, trade_json

MAX_BATCH = 15


class ConnectionDropped(Exception):
    """Raised after the response has started so the server closes the socket mid-response."""


class DroppedResponse(Response):
    """Starts a 200 response, then aborts: the client sees the connection die with no body."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"512")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        raise ConnectionDropped("order response dropped by fault injection")


def result_json(result: SubmitResult) -> Json:
    return {
        "success": True,
        "errorMsg": "",
        "orderID": result.order.id,
        "status": result.status,
        "makingAmount": fmt(result.making_amount),
        "takingAmount": fmt(result.taking_amount),
        "transactionsHashes": [],
        "tradeIDs": [t.id for t in result.trades],
    }


def failure_json(exc: VenueError, order_id: str = "") -> Json:
    return {
        "success": False,
        "errorMsg": exc.message,
        "orderID": exc.extra.get("orderID", order_id),
        "status": "",
        "makingAmount": "",
        "takingAmount": "",
        "transactionsHashes": [],
        "tradeIDs": [],
    }


class PrivateApi:
    def __init__(self, exchange: Exchange, keys: ApiKeyStore) -> None:
        self.ex = exchange
        self.keys = keys
        self.intake = OrderIntake(exchange.config.chain_id)

    def routes(self) -> list[Route]:
        get, post, delete = ["GET"], ["POST"], ["DELETE"]
        table: list[tuple[str, Handler, list[str]]] = [
            ("/auth/api-key", self.create_key, post),
            ("/auth/derive-api-key", self.derive_key, get),
            ("/auth/api-keys", self.api_keys, get),
            ("/auth/api-key", self.delete_key, delete),
            ("/auth/ban-status/closed-only", self.closed_only, get),
            ("/order", self.post_order, post),
            ("/orders", self.post_orders, post),
            ("/order", self.cancel_one, delete),
            ("/orders", self.cancel_many, delete),
            ("/cancel-all", self.cancel_all, delete),
            ("/cancel-market-orders", self.cancel_market, delete),
            ("/data/orders", self.orders, get),
            ("/data/order/{order_id}", self.order, get),
            ("/data/trades", self.trades, get),
            ("/balance-allowance", self.balance, get),
            ("/balance-allowance/update", self.balance, get),
            ("/notifications", self.notifications, get),
            ("/notifications", self.drop_notifications, delete),
            ("/v1/heartbeats", self.heartbeat, post),
            ("/order-scoring", self.order_scoring, get),
            ("/orders-scoring", self.orders_scoring, post),
        ]
        return [Route(path, venue_errors(fn), methods=methods) for path, fn, methods in table]

    async def _auth(self, request: Request) -> tuple[Principal, Any]:
        body = await request.body()
        who = self.keys.verify_l2(request.headers, request.method, request.url.path, body)
        try:
            parsed = json.loads(body) if body else None
        except ValueError as exc:
            raise VenueError(400, "Invalid order payload") from exc
        return who, parsed

    # ---- keys --------------------------------------------------------------------------------

    async def create_key(self, request: Request) -> Response:
        address, nonce = self.keys.verify_l1(request.headers)
        return JSONResponse(self.keys.create(address, nonce).json())

    async def derive_key(self, request: Request) -> Response:
        address, nonce = self.keys.verify_l1(request.headers)
        return JSONResponse(self.keys.derive(address, nonce).json())

    async def api_keys(self, request: Request) -> Response:
        who, _ = await self._auth(request)
        return JSONResponse({"apiKeys": self.keys.keys_of(who.address)})

    async def delete_key(self, request: Request) -> Response:
        who, _ = await self._auth(request)
        self.keys.delete(who.api_key)
        return JSONResponse("OK")

    async def closed_only(self, request: Request) -> Response:
        await self._auth(request)
        return JSONResponse({"closed_only": False})

    # ---- orders ------------------------------------------------------------------------------

    async def post_order(self, request: Request) -> Response:
        who, body = await self._auth(request)
        result = self.ex.submit(self.intake.parse(body, who))
        if self.ex.faults.take("drop_order_response_count"):
            return DroppedResponse()
        return JSONResponse(result_json(result))

    async def post_orders(self, request: Request) -> Response:
        who, body = await self._auth(request)
        if not isinstance(body, list) or not body:
            raise VenueError(400, "Invalid order payload")
        if len(body) > MAX_BATCH:
            raise VenueError(400, f"Too many orders in payload: max {MAX_BATCH}")
        out: list[Json] = []
        for item in body:
            try:
                out.append(result_json(self.ex.submit(self.intake.parse(item, who))))
            except VenueError as exc:
                out.append(failure_json(exc))
        if self.ex.faults.take("drop_order_response_count"):
            return DroppedResponse()
        return JSONResponse(out)

    def _cancel_result(self, canceled: list[str], refused: dict[str, str]) -> Response:
        return JSONResponse({"canceled": canceled, "not_canceled": refused})

    async def cancel_one(self, request: Request) -> Response:
        who, body = await self._auth(request)
        if not isinstance(body, dict) or not isinstance(body.get("orderID"), str):
            raise VenueError(400, "Invalid payload")
        return self._cancel_result(*self.ex.cancel(who.account, [body["orderID"]]))

    async def cancel_many(self, request: Request) -> Response:
        who, body = await self._auth(request)
        if not isinstance(body, list) or not all(isinstance(i, str) for i in body) or len(body) > 1000:
            raise VenueError(400, "Invalid payload")
        return self._cancel_result(*self.ex.cancel(who.account, body))

    async def cancel_all(self, request: Request) -> Response:
        who, _ = await self._auth(request)
        return self._cancel_result(*self.ex.cancel_all(who.account))

    async def cancel_market(self, request: Request) -> Response:
        who, body = await self._auth(request)
        body = body if isinstance(body, dict) else {}
        market, asset = str(body.get("market") or ""), str(body.get("asset_id") or "")
        return self._cancel_result(*self.ex.cancel_all(who.account, market, asset))

    # ---- reads -------------------------------------------------------------------------------

    async def orders(self, request: Request) -> Response:
        who, _ = await self._auth(request)
        q = request.query_params
        items = [
            order_json(o, self.ex.market_of_token(o.token_id))
            for o in self.ex.open_orders(who.account)
            if (not q.get("id") or o.id == q["id"])
            and (not q.get("asset_id") or o.token_id == q["asset_id"])
            and (not q.get("market") or self.ex.market_of_token(o.token_id).condition_id == q["market"])
        ]
        return JSONResponse(page(items, q.get("next_cursor")))

    async def order(self, request: Request) -> Response:
        who, _ = await self._auth(request)
        order = self.ex.order(request.path_params["order_id"])
        if order is None or order.account != who.account:
            raise VenueError(404, "Order not found")
        return JSONResponse(order_json(order, self.ex.market_of_token(order.token_id)))

    async def trades(self, request: Request) -> Response:
        who, _ = await self._auth(request)
        q = request.query_params
        after, before = int(q.get("after") or 0), int(q.get("before") or 0)
        items = [
            trade_json(t, self.ex.market(t.market), who.account)
            for t in self.ex.trades_of(who.account)
            if (not q.get("id") or t.id == q["id"])
            and (not q.get("market") or t.market == q["market"])
            and (not q.get("asset_id") or q["asset_id"] in (t.taker.token_id, t.maker.token_id))
            and (not after or t.match_time >= after)
            and (not before or t.match_time <= before)
        ]
        return JSONResponse(page(items, q.get("next_cursor")))

    async def balance(self, request: Request) -> Response:
        who, _ = await self._auth(request)
        q = request.query_params
        asset_type = q.get("asset_type", COLLATERAL).upper()
        if asset_type == COLLATERAL:
            asset = COLLATERAL
        elif asset_type == "CONDITIONAL" and q.get("token_id"):
            asset = q["token_id"]
        else:
            raise VenueError(400, "Invalid asset type")
        micros = int(self.ex.balance(who.account, asset) * 1_000_000)
        allowance = self.ex.ledger.allowance(who.account, EXCHANGE_V2)
        return JSONResponse({"balance": str(micros), "allowances": {EXCHANGE_V2: str(int(allowance))}})

    async def notifications(self, request: Request) -> Response:
        who, _ = await self._auth(request)
        return JSONResponse(self.ex.notifications.get(who.account, []))

    async def drop_notifications(self, request: Request) -> Response:
        who, _ = await self._auth(request)
        ids = {i for i in request.query_params.get("ids", "").split(",") if i}
        box = self.ex.notifications.get(who.account, [])
        self.ex.notifications[who.account] = [n for n in box if str(n["id"]) not in ids]
        return JSONResponse("OK")

    async def heartbeat(self, request: Request) -> Response:
        who, body = await self._auth(request)
        hb = body.get("heartbeat_id") if isinstance(body, dict) else None
        return JSONResponse({"heartbeat_id": self.ex.heartbeat(who.account, hb or None)})

    async def order_scoring(self, request: Request) -> Response:
        await self._auth(request)
        return JSONResponse({"scoring": False})

    async def orders_scoring(self, request: Request) -> Response:
        _, body = await self._auth(request)
        return JSONResponse({str(i): False for i in body or []})


def clob_routes(exchange: Exchange, keys: ApiKeyStore) -> list[Route]:
    """Every CLOB REST route, public and private, to mount at the root."""
    return PublicApi(exchange).routes() + PrivateApi(exchange, keys).routes()
