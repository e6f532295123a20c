"""User channel `/ws/user` (POLYMARKET.md §8): auth frame, then `order` and `trade` frames.

The first frame must carry `auth` {apiKey, secret, passphrase} of a created key; a bad one closes
the socket with 1008. `markets` (condition ids) narrows what is sent; absent or empty means all.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from simulator.auth import ApiKeyStore
from simulator.exchange import Message, UserMessage
from simulator.ws_session import CLOSE, serve_session

AUTH_TIMEOUT_S = 10.0


@dataclass(eq=False)
class _Conn:
    account: str
    queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    markets: set[str] = field(default_factory=set)


class UserHub:
    """Routes each account's order and trade events to its authenticated sockets."""

    def __init__(self, keys: ApiKeyStore) -> None:
        self.keys = keys
        self.conns: set[_Conn] = set()

    def route(self) -> WebSocketRoute:
        return WebSocketRoute("/ws/user", self.endpoint)

    def on_message(self, message: Message) -> None:
        if not isinstance(message, UserMessage):
            return
        for conn in self.conns:
            if conn.account == message.account and (not conn.markets or message.condition_id in conn.markets):
                conn.queue.put_nowait(message.payload)

    def disconnect_all(self) -> int:
        for conn in self.conns:
            conn.queue.put_nowait(CLOSE)
        return len(self.conns)

    def _authenticate(self, text: str) -> _Conn | None:
        try:
            frame = json.loads(text)
            auth = frame["auth"]
            creds = self.keys.check_user_auth(
                str(auth["apiKey"]), str(auth["secret"]), str(auth["passphrase"])
            )
        except (ValueError, KeyError, TypeError):
            return None
        if creds is None:
            return None
        conn = _Conn(account=creds.address.lower())
        conn.markets.update(str(m) for m in frame.get("markets") or [])
        return conn

    @staticmethod
    def _handle(conn: _Conn, text: str) -> None:
        try:
            frame = json.loads(text)
        except ValueError:
            return
        if not isinstance(frame, dict):
            return
        markets = {str(m) for m in frame.get("markets") or []}
        if frame.get("operation") == "unsubscribe":
            conn.markets.difference_update(markets)
        else:
            conn.markets.update(markets)

    async def endpoint(self, ws: WebSocket) -> None:
        await ws.accept()
        try:
            first = await asyncio.wait_for(ws.receive_text(), AUTH_TIMEOUT_S)
        except (TimeoutError, WebSocketDisconnect, RuntimeError):
            return
        conn = self._authenticate(first)
        if conn is None:
            await ws.close(code=1008, reason="INVALID AUTH")
            return
        self.conns.add(conn)
        try:
            await serve_session(ws, conn.queue, lambda text: self._handle(conn, text))
        finally:
            self.conns.discard(conn)
