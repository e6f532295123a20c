"""Market channel `/ws/market` (POLYMARKET.md §7): subscribe, initial dump, book events, PING/PONG.

Each connection has its own queue and sender task, so a slow client never blocks the exchange.
Faults applied here: a stalled feed (events dropped while stalled), duplicated and reordered
`price_change` frames, malformed frames, and forced disconnects.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from simulator.exchange import Exchange, MarketMessage, Message
from simulator.faults import FaultState
from simulator.wire import Json
from simulator.ws_session import CLOSE, serve_session

MALFORMED = '{"event_type":"book","asset_id":'
MAX_ASSETS = 500


@dataclass(eq=False)
class _Conn:
    queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    assets: set[str] = field(default_factory=set)
    custom: bool = False
    held_back: Json | None = None


def _assets_of(payload: Json) -> list[str]:
    if "price_changes" in payload:
        return [str(e["asset_id"]) for e in payload["price_changes"]]
    if "assets_ids" in payload:
        return [str(a) for a in payload["assets_ids"]]
    return [str(payload.get("asset_id", ""))]


class MarketHub:
    """Fans exchange market messages out to subscribed sockets."""

    def __init__(self, exchange: Exchange, faults: FaultState) -> None:
        self.ex = exchange
        self.faults = faults
        self.conns: set[_Conn] = set()
        self.sent = 0

    def route(self) -> WebSocketRoute:
        return WebSocketRoute("/ws/market", self.endpoint)

    def on_message(self, message: Message) -> None:
        if not isinstance(message, MarketMessage) or not self.conns or self.faults.market_stalled():
            return
        payload = message.payload
        assets = _assets_of(payload)
        for conn in self.conns:
            if message.custom and not conn.custom:
                continue
            if not conn.assets.intersection(assets):
                continue
            if "price_changes" in payload and not conn.assets.issuperset(assets):
                kept = [e for e in payload["price_changes"] if e["asset_id"] in conn.assets]
                self._deliver(conn, {**payload, "price_changes": kept})
            else:
                self._deliver(conn, payload)

    def _deliver(self, conn: _Conn, payload: Json) -> None:
        if self.faults.take("malformed_frame_count"):
            conn.queue.put_nowait(MALFORMED)
        is_change = payload.get("event_type") == "price_change"
        if is_change and self.faults.reorder_price_change:
            if conn.held_back is None:
                conn.held_back = payload
                return
            conn.queue.put_nowait(payload)
            payload, conn.held_back = conn.held_back, None
        conn.queue.put_nowait(payload)
        if is_change and self.faults.duplicate_price_change:
            conn.queue.put_nowait(payload)

    def disconnect_all(self) -> int:
        for conn in self.conns:
            conn.queue.put_nowait(CLOSE)
        return len(self.conns)

    def _subscribe(self, conn: _Conn, assets: list[str], dump: bool) -> None:
        fresh = [a for a in assets if a not in conn.assets and self.ex.has_token(a)]
        conn.assets.update(a for a in assets if isinstance(a, str))
        if dump and fresh:
            conn.queue.put_nowait([{"event_type": "book", **self.ex.book(a)} for a in fresh])

    def _handle(self, conn: _Conn, frame: Any) -> None:
        if not isinstance(frame, dict):
            return
        assets = [str(a) for a in frame.get("assets_ids") or []][:MAX_ASSETS]
        operation = frame.get("operation")
        if "custom_feature_enabled" in frame:
            conn.custom = bool(frame["custom_feature_enabled"])
        if operation == "unsubscribe":
            conn.assets.difference_update(assets)
        else:
            self._subscribe(conn, assets, bool(frame.get("initial_dump", True)))

    def _on_text(self, conn: _Conn, text: str) -> None:
        try:
            self._handle(conn, json.loads(text))
        except ValueError:
            return

    def _count_sent(self) -> None:
        self.sent += 1

    async def endpoint(self, ws: WebSocket) -> None:
        await ws.accept()
        conn = _Conn()
        self.conns.add(conn)
        try:
            await serve_session(ws, conn.queue, lambda text: self._on_text(conn, text), self._count_sent)
        finally:
            self.conns.discard(conn)
