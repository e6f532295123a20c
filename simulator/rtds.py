"""RTDS price websocket (mounted at `/rtds`): the grammar, frames and quirks of POLYMARKET.md §9.

Subscriptions name a topic and a `filters` string of compact JSON (`{"symbol":"btc/usd"}`). Each
subscribe is answered by a backfill; updates carry `connection_id`. The quirks the venue shows are
reproduced, each behind a setting so a connector can be tested with and without them: an empty text
frame at connect, the Chainlink-spot backfill labelled `crypto_prices`, a filter with whitespace
giving a backfill then silence, and one unknown topic poisoning its whole batch with an error
envelope. No PONG is ever sent. `publish` may be called from any thread.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from simulator.oracle import BINANCE, CHAINLINK, TWAP_TOPICS, FeedPoint

Json = dict[str, Any]
KNOWN_TOPICS = frozenset({BINANCE, CHAINLINK, *TWAP_TOPICS})


@dataclass(frozen=True, slots=True)
class RtdsSettings:
    empty_frame_at_connect: bool = True
    mislabel_chainlink_backfill: bool = True
    whitespace_filter_silences: bool = True
    unknown_topic_poisons_batch: bool = True
    chainlink_backfill_points: tuple[int, int] = (55, 59)
    twap_backfill_points: int = 60
    binance_backfill_points: int = 120


def poison_envelope(topic: str, kind: str) -> Json:
    """The venue's error frame for an unknown topic in a subscription batch (verbatim wording)."""
    what = f"topic: {topic} and type: {kind} not found"
    rpc = f"rpc error: code = NotFound desc = {what}"
    return {
        "body": {"message": f"leger GetTopics error: {rpc}, status: {rpc}, message: {what}"},
        "statusCode": 401,
    }


@dataclass(slots=True)
class _Connection:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str]
    connection_id: str
    # (topic, symbol or None for all) -> silenced
    subs: dict[tuple[str, str | None], bool] = field(default_factory=dict)


def _backfill_point(point: FeedPoint) -> Json:
    item: Json = {"timestamp": point.ts_ms, "value": point.value}
    if point.topic in TWAP_TOPICS:
        item["full_accuracy_value"] = point.full_accuracy_value
    return item


def update_frame(point: FeedPoint, connection_id: str) -> Json:
    payload: Json = {
        "full_accuracy_value": point.full_accuracy_value,
        "symbol": point.symbol,
        "timestamp": point.ts_ms,
        "value": point.value,
    }
    if point.window_s is not None:
        payload["window_s"] = point.window_s
    return {
        "connection_id": connection_id,
        "payload": payload,
        "timestamp": point.publish_ms,
        "topic": point.topic,
        "type": "update",
    }


class RtdsHub:
    """Recent prints per topic/symbol (for backfills) and the open connections to push updates to."""

    def __init__(self, settings: RtdsSettings | None = None, seed: int = 0) -> None:
        self.settings = settings or RtdsSettings()
        self._rng = random.Random(f"{seed}:rtds")
        keep = max(self.settings.binance_backfill_points, self.settings.chainlink_backfill_points[1])
        self._history: dict[tuple[str, str], deque[FeedPoint]] = {}
        self._keep = max(keep, self.settings.twap_backfill_points)
        self._connections: list[_Connection] = []
        self.now_ms = 0

    def publish(self, point: FeedPoint) -> None:
        """Record a print and push it to every live subscription that matches it."""
        self.now_ms = max(self.now_ms, point.publish_ms)
        history = self._history.setdefault((point.topic, point.symbol), deque(maxlen=self._keep))
        history.append(point)
        for conn in list(self._connections):
            for key in ((point.topic, point.symbol), (point.topic, None)):
                if key in conn.subs and not conn.subs[key]:
                    self._send(conn, update_frame(point, conn.connection_id))
                    break

    def _send(self, conn: _Connection, frame: Json | str) -> None:
        text = frame if isinstance(frame, str) else json.dumps(frame, separators=(",", ":"))
        conn.loop.call_soon_threadsafe(conn.queue.put_nowait, text)

    def backfill(self, topic: str, symbol: str) -> Json:
        """The answer to a subscribe: recent points of that feed (the Chainlink one mislabelled)."""
        if topic == BINANCE:
            count = self.settings.binance_backfill_points
        elif topic == CHAINLINK:
            count = self._rng.randint(*self.settings.chainlink_backfill_points)
        else:
            count = self.settings.twap_backfill_points
        points = list(self._history.get((topic, symbol), ()))[-count:]
        payload: Json = {"data": [_backfill_point(p) for p in points], "symbol": symbol}
        if topic in TWAP_TOPICS:
            payload["window_s"] = TWAP_TOPICS[topic]
        label = BINANCE if topic == CHAINLINK and self.settings.mislabel_chainlink_backfill else topic
        return {"payload": payload, "timestamp": self.now_ms, "topic": label, "type": "subscribe"}

    def _symbols(self, topic: str) -> list[str]:
        return sorted(s for t, s in self._history if t == topic)

    def handle(self, conn: _Connection, message: Json) -> None:
        """Apply one subscribe/unsubscribe frame from a client."""
        action = message.get("action")
        subscriptions = message.get("subscriptions")
        if action not in ("subscribe", "unsubscribe") or not isinstance(subscriptions, list):
            return
        parsed: list[tuple[str, str, str | None, bool]] = []
        for sub in subscriptions:
            if not isinstance(sub, dict):
                continue
            topic, kind = str(sub.get("topic", "")), str(sub.get("type", "*"))
            raw_filter = sub.get("filters")
            symbol: str | None = None
            silent = False
            if isinstance(raw_filter, str) and raw_filter:
                try:
                    decoded = json.loads(raw_filter)
                except ValueError:
                    continue
                if not isinstance(decoded, dict) or not isinstance(decoded.get("symbol"), str):
                    continue
                symbol = decoded["symbol"]
                compact = json.dumps(decoded, separators=(",", ":"))
                silent = self.settings.whitespace_filter_silences and raw_filter != compact
            parsed.append((topic, kind, symbol, silent))
        unknown = [(t, k) for t, k, _, _ in parsed if t not in KNOWN_TOPICS]
        if unknown and action == "subscribe":
            if self.settings.unknown_topic_poisons_batch:
                self._send(conn, poison_envelope(*unknown[0]))
                return
            parsed = [p for p in parsed if p[0] in KNOWN_TOPICS]
        for topic, _, symbol, silent in parsed:
            if action == "unsubscribe":
                conn.subs.pop((topic, symbol), None)
                continue
            conn.subs[(topic, symbol)] = silent
            for sym in [symbol] if symbol is not None else self._symbols(topic):
                self._send(conn, self.backfill(topic, sym))

    def connect(self, loop: asyncio.AbstractEventLoop) -> _Connection:
        token = base64.b64encode(self._rng.getrandbits(112).to_bytes(14, "big")).decode()
        conn = _Connection(loop, asyncio.Queue(), token)
        self._connections.append(conn)
        if self.settings.empty_frame_at_connect:
            self._send(conn, "")
        return conn

    def disconnect(self, conn: _Connection) -> None:
        if conn in self._connections:
            self._connections.remove(conn)

    @property
    def connection_count(self) -> int:
        return len(self._connections)


def rtds_endpoint(hub: RtdsHub) -> Any:
    """The websocket handler; mount with `WebSocketRoute("/rtds", rtds_endpoint(hub))`."""

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        conn = hub.connect(asyncio.get_running_loop())

        async def pump() -> None:
            while True:
                await websocket.send_text(await conn.queue.get())

        sender = asyncio.create_task(pump())
        try:
            while True:
                text = await websocket.receive_text()
                try:
                    message = json.loads(text)
                except ValueError:
                    continue  # PING and other text: RTDS never answers
                if isinstance(message, dict):
                    hub.handle(conn, message)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            hub.disconnect(conn)
            sender.cancel()

    return endpoint


def rtds_app(hub: RtdsHub) -> Starlette:
    """A sub-application serving RTDS at its root (for `app.mount("/rtds", ...)` or standalone)."""
    return Starlette(routes=[WebSocketRoute("/", rtds_endpoint(hub))])
