"""Public CLOB REST routes (no auth): time, version, books, prices, market parameters, markets.

Shapes follow POLYMARKET.md §5 and py-clob-client-v2 1.2.1, which reads `minimum_tick_size`,
`mts` and `fd.r` as JSON numbers and everything else as the strings shown.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulator.exchange import Exchange, VenueError
from simulator.markets import ms
from simulator.wire import Json, clob_market_json, fmt, market_info_json

PAGE = 100
SIM_PREFIX = "/_sim"
SIM_CLOCK_PATH = f"{SIM_PREFIX}/clock"
END_CURSOR = "LTE="

Handler = Callable[[Request], Awaitable[Response]]


def venue_errors(handler: Handler) -> Handler:
    """Turn a VenueError into the venue's `{"error": ...}` response."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except VenueError as exc:
            return JSONResponse(exc.body(), status_code=exc.status)

    return wrapped


def page(items: list[Any], cursor: str | None) -> Json:
    """One `{limit,count,next_cursor,data}` page; cursors are base64 offsets, the last is "LTE="."""
    try:
        offset = int(base64.b64decode(cursor or "MA==").decode()) if cursor and cursor != END_CURSOR else 0
    except ValueError:
        offset = 0
    chunk = items[offset : offset + PAGE]
    nxt = offset + PAGE
    next_cursor = base64.b64encode(str(nxt).encode()).decode() if nxt < len(items) else END_CURSOR
    return {"limit": PAGE, "count": len(chunk), "next_cursor": next_cursor, "data": chunk}


async def json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError as exc:
        raise VenueError(400, "Invalid payload") from exc


class PublicApi:
    def __init__(self, exchange: Exchange) -> None:
        self.ex = exchange

    def routes(self) -> list[Route]:
        get, post = ["GET"], ["POST"]
        table: list[tuple[str, Handler, list[str]]] = [
            ("/", self.ok, get),
            ("/ok", self.ok, get),
            ("/time", self.time, get),
            (SIM_CLOCK_PATH, self.sim_clock, get),
            ("/version", self.version, get),
            ("/book", self.book, get),
            ("/books", self.books, post),
            ("/price", self.price, get),
            ("/prices", self.prices, post),
            ("/midpoint", self.midpoint, get),
            ("/midpoints", self.midpoints, post),
            ("/spread", self.spread, get),
            ("/spreads", self.spreads, post),
            ("/last-trade-price", self.last_trade_price, get),
            ("/last-trades-prices", self.last_trades_prices, post),
            ("/tick-size", self.tick_size, get),
            ("/neg-risk", self.neg_risk, get),
            ("/fee-rate", self.fee_rate, get),
            ("/markets", self.markets, get),
            ("/simplified-markets", self.markets, get),
            ("/sampling-markets", self.markets, get),
            ("/sampling-simplified-markets", self.markets, get),
            ("/markets/{condition_id}", self.market, get),
            ("/markets-by-token/{token_id}", self.market_by_token, get),
            ("/clob-markets/{condition_id}", self.clob_market, get),
        ]
        return [Route(path, venue_errors(fn), methods=methods) for path, fn, methods in table]

    def _token(self, request: Request) -> str:
        token = request.query_params.get("token_id", "")
        if not token or not token.isdigit():
            raise VenueError(400, "Invalid token id")
        if not self.ex.has_token(token):
            raise VenueError(404, "No orderbook exists for the requested token id")
        return token

    @staticmethod
    def _tokens(body: Any) -> list[Json]:
        if not isinstance(body, list) or not all(isinstance(i, dict) and "token_id" in i for i in body):
            raise VenueError(400, "Invalid payload")
        return body

    async def ok(self, request: Request) -> Response:
        return JSONResponse("OK")

    async def time(self, request: Request) -> Response:
        # Scenario time, in the venue's form (integer seconds); auth skew checks stay on wall time.
        return JSONResponse(int(self.ex.clock.now().timestamp()))

    async def sim_clock(self, request: Request) -> Response:
        """Not a venue route: scenario time in ms and its speed, for a clock that follows it."""
        return JSONResponse({"now_ms": ms(self.ex.clock.now()), "speed": float(self.ex.clock.speed)})

    async def version(self, request: Request) -> Response:
        return JSONResponse({"version": 2})

    async def book(self, request: Request) -> Response:
        return JSONResponse(self.ex.book(self._token(request)))

    async def books(self, request: Request) -> Response:
        items = self._tokens(await json_body(request))
        return JSONResponse(
            [self.ex.book(str(i["token_id"])) for i in items if self.ex.has_token(str(i["token_id"]))]
        )

    def _side_price(self, token: str, side: str) -> Decimal:
        bid, ask = self.ex.best(token)
        if side not in ("BUY", "SELL"):
            raise VenueError(400, "Invalid side")
        value = bid if side == "BUY" else ask
        if value is None:
            raise VenueError(404, "No orderbook exists for the requested token id")
        return value

    async def price(self, request: Request) -> Response:
        token = self._token(request)
        return JSONResponse({"price": fmt(self._side_price(token, request.query_params.get("side", "")))})

    async def prices(self, request: Request) -> Response:
        out: dict[str, dict[str, str]] = {}
        for item in self._tokens(await json_body(request)):
            token, side = str(item["token_id"]), str(item.get("side", "BUY"))
            if self.ex.has_token(token):
                try:
                    out.setdefault(token, {})[side] = fmt(self._side_price(token, side))
                except VenueError:
                    continue
        return JSONResponse(out)

    def _mid(self, token: str) -> Decimal:
        bid, ask = self.ex.best(token)
        if bid is None or ask is None:
            raise VenueError(404, "No orderbook exists for the requested token id")
        return (bid + ask) / 2

    async def midpoint(self, request: Request) -> Response:
        return JSONResponse({"mid": fmt(self._mid(self._token(request)))})

    async def midpoints(self, request: Request) -> Response:
        out: dict[str, str] = {}
        for item in self._tokens(await json_body(request)):
            token = str(item["token_id"])
            bid, ask = self.ex.best(token) if self.ex.has_token(token) else (None, None)
            if bid is not None and ask is not None:
                out[token] = fmt((bid + ask) / 2)
        return JSONResponse(out)

    def _spread(self, token: str) -> str:
        bid, ask = self.ex.best(token)
        return fmt(ask - bid) if bid is not None and ask is not None else "0"

    async def spread(self, request: Request) -> Response:
        return JSONResponse({"spread": self._spread(self._token(request))})

    async def spreads(self, request: Request) -> Response:
        items = self._tokens(await json_body(request))
        return JSONResponse(
            {
                str(i["token_id"]): self._spread(str(i["token_id"]))
                for i in items
                if self.ex.has_token(str(i["token_id"]))
            }
        )

    def _last(self, token: str) -> Json:
        last = self.ex.last_trade(token)
        return {"price": fmt(last[0]), "side": last[1]} if last else {"price": "0.5", "side": ""}

    async def last_trade_price(self, request: Request) -> Response:
        return JSONResponse(self._last(self._token(request)))

    async def last_trades_prices(self, request: Request) -> Response:
        items = self._tokens(await json_body(request))[:500]
        return JSONResponse(
            [
                {"token_id": str(i["token_id"]), **self._last(str(i["token_id"]))}
                for i in items
                if self.ex.has_token(str(i["token_id"]))
            ]
        )

    async def tick_size(self, request: Request) -> Response:
        # A JSON number, as the venue sends it: the client keys its rounding table on str() of it.
        return JSONResponse({"minimum_tick_size": float(self.ex.tick_size(self._token(request)))})

    async def neg_risk(self, request: Request) -> Response:
        return JSONResponse({"neg_risk": self.ex.market_of_token(self._token(request)).neg_risk})

    async def fee_rate(self, request: Request) -> Response:
        market = self.ex.market_of_token(self._token(request))
        return JSONResponse({"base_fee": self.ex.config.base_fee_bps if market.fee_rate else 0})

    def _market_json(self, condition_id: str) -> Json:
        m = self.ex.market(condition_id)
        return market_info_json(
            m, self.ex.tick_size(condition_id), self.ex.is_closed(condition_id), self.ex.winner(condition_id)
        )

    async def markets(self, request: Request) -> Response:
        items = [self._market_json(m.condition_id) for m in self.ex.markets()]
        return JSONResponse(page(items, request.query_params.get("next_cursor")))

    async def market(self, request: Request) -> Response:
        return JSONResponse(self._market_json(request.path_params["condition_id"]))

    async def market_by_token(self, request: Request) -> Response:
        token = request.path_params["token_id"]
        if not self.ex.has_token(token):
            raise VenueError(404, "market not found")
        m = self.ex.market_of_token(token)
        return JSONResponse(
            {
                "condition_id": m.condition_id,
                "primary_token_id": m.up_token_id,
                "secondary_token_id": m.down_token_id,
            }
        )

    async def clob_market(self, request: Request) -> Response:
        cid = request.path_params["condition_id"]
        return JSONResponse(clob_market_json(self.ex.market(cid), self.ex.tick_size(cid)))
