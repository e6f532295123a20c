"""Binance spot klines on the simulator (mounted at `/binance`): the candles hourly windows settle on.

- `GET /binance/api/v3/klines?symbol=BTCUSDT&interval=1h[&startTime][&endTime][&limit]`: Binance's
  array rows; errors as Binance writes them (`{"code": -1121, "msg": "Invalid symbol."}`, HTTP 400).
  Only the `1h` interval is served (any other is `Invalid interval.`).
- `WS /binance/stream?streams=btcusdt@kline_1h/ethusdt@kline_1h`: combined-stream frames
  `{"stream": ..., "data": <kline event>}`; `WS /binance/ws/btcusdt@kline_1h`: the bare events.
  Both also take `{"method": "SUBSCRIBE"|"UNSUBSCRIBE", "params": [...], "id": n}` frames.
  An update goes out for every relayed print (one per scenario second) and a final `x: true` frame
  when the candle closes. Like Binance, nothing is sent at connect and unknown streams stay silent.
`KlineHub.on_candle` may be called from any thread.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from simulator.klines import INTERVAL, MAX_LIMIT, Candle, KlineBook

STREAM_SUFFIX = f"@kline_{INTERVAL}"
DEFAULT_LIMIT = 500


def binance_error(code: int, msg: str, status: int = 400) -> Response:
    return JSONResponse({"code": code, "msg": msg}, status_code=status)


def _int_param(request: Request, key: str) -> int | None:
    raw = request.query_params.get(key)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise ValueError(key)
    return int(raw)


def klines_route(book: KlineBook) -> Route:
    async def klines(request: Request) -> Response:
        symbol = request.query_params.get("symbol", "")
        interval = request.query_params.get("interval", "")
        if not symbol:
            return binance_error(
                -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
            )
        if not interval:
            return binance_error(
                -1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed."
            )
        if symbol not in book.symbols:
            return binance_error(-1121, "Invalid symbol.")
        if interval != INTERVAL:
            return binance_error(-1120, "Invalid interval.")
        try:
            start, end, limit = (_int_param(request, k) for k in ("startTime", "endTime", "limit"))
        except ValueError as exc:
            return binance_error(-1100, f"Illegal characters found in parameter '{exc}'.")
        if limit is not None and not 1 <= limit <= MAX_LIMIT:
            return binance_error(-1130, "Data sent for parameter 'limit' is not valid.")
        rows = book.candles(symbol, start, end, limit or DEFAULT_LIMIT)
        return JSONResponse([c.rest_row() for c in rows])

    return Route("/api/v3/klines", klines, methods=["GET"])


@dataclass(slots=True)
class _Listener:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str]
    combined: bool
    streams: set[str] = field(default_factory=set)


class KlineHub:
    """Open stream connections and their subscriptions; `on_candle` is a KlineBook listener."""

    def __init__(self, book: KlineBook) -> None:
        self._book = book
        self._listeners: list[_Listener] = []
        book.listeners.append(self.on_candle)

    def on_candle(self, candle: Candle, event_ms: int) -> None:
        if not self._listeners:
            return
        stream = f"{candle.symbol.lower()}{STREAM_SUFFIX}"
        event = candle.stream_event(event_ms)
        bare = json.dumps(event, separators=(",", ":"))
        wrapped = json.dumps({"stream": stream, "data": event}, separators=(",", ":"))
        for conn in list(self._listeners):
            if stream in conn.streams:
                conn.loop.call_soon_threadsafe(conn.queue.put_nowait, wrapped if conn.combined else bare)

    @property
    def connection_count(self) -> int:
        return len(self._listeners)

    def _command(self, conn: _Listener, text: str) -> None:
        try:
            message: Any = json.loads(text)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        method, params = message.get("method"), message.get("params") or []
        if method in ("SUBSCRIBE", "UNSUBSCRIBE") and isinstance(params, list):
            names = {str(p).lower() for p in params}
            conn.streams = conn.streams | names if method == "SUBSCRIBE" else conn.streams - names
            reply: dict[str, Any] = {"result": None, "id": message.get("id")}
        elif method == "LIST_SUBSCRIPTIONS":
            reply = {"result": sorted(conn.streams), "id": message.get("id")}
        else:
            reply = {"error": {"code": 2, "msg": "Invalid request"}, "id": message.get("id")}
        conn.queue.put_nowait(json.dumps(reply, separators=(",", ":")))

    async def serve(self, websocket: WebSocket, streams: set[str], combined: bool) -> None:
        await websocket.accept()
        conn = _Listener(asyncio.get_running_loop(), asyncio.Queue(), combined, streams)
        self._listeners.append(conn)

        async def pump() -> None:
            while True:
                await websocket.send_text(await conn.queue.get())

        sender = asyncio.create_task(pump())
        try:
            while True:
                self._command(conn, await websocket.receive_text())
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            self._listeners.remove(conn)
            sender.cancel()

    def routes(self) -> list[BaseRoute]:
        async def combined(websocket: WebSocket) -> None:
            names = websocket.query_params.get("streams", "")
            await self.serve(websocket, {n.lower() for n in names.split("/") if n}, True)

        async def single(websocket: WebSocket) -> None:
            await self.serve(websocket, {str(websocket.path_params["stream"]).lower()}, False)

        return [WebSocketRoute("/stream", combined), WebSocketRoute("/ws/{stream}", single)]


def binance_routes(book: KlineBook, hub: KlineHub) -> list[BaseRoute]:
    """REST klines and the kline streams, for `Mount("/binance", routes=...)`."""
    return [klines_route(book), *hub.routes()]
