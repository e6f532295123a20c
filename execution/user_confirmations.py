"""The user channel as a confirmation source for LIVE orders (POLYMARKET.md §8), beside polling.

`PushedOrders` keeps what the channel said about each order: its latest `order` frame and each of
its trades at the furthest status seen (frames arrive late and twice: `TRADE_STATUS_RANK`). The
confirmation loop (`execution.fill_sources.VenueFills`) reads it with the same functions it reads a
polled record with (`core.execution.venue_view`, the trade legs), so an order's state moves on the
first of the user-channel frame or the poll. An order's entries are dropped once its confirmation
is over (`forget`), and the oldest beyond `max_orders` (frames of orders no loop waits for).

`UserChannelListener` runs the socket on its own thread (the executor's loop is synchronous): the
auth frame from `connectors.polymarket.user_ws.UserChannel` (all our markets), a text PING when the
socket is quiet, and a reconnect after any drop; every reconnect calls `on_gap` (the executor then
reconciles, as frames of the gap may be lost).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import connect

from core.enums import TRADE_STATUS_RANK, TradeStatus

__all__ = ["PushedOrders", "UserChannelListener"]

log = structlog.get_logger(__name__)
Json = dict[str, Any]


def _rank(trade: Json) -> int:
    status = TradeStatus.__members__.get(str(trade.get("status", "")).upper().removeprefix("TRADE_STATUS_"))
    return TRADE_STATUS_RANK.get(status, -1) if status is not None else -1


class PushedOrders:
    """Thread-safe: the listener thread adds frames, the confirmation loop reads and waits."""

    def __init__(self, our_api_key: str | None = None, max_orders: int = 10_000) -> None:
        self._key = our_api_key
        self._changed = threading.Condition()
        self._orders: OrderedDict[str, Json] = OrderedDict()
        self._trades: OrderedDict[str, dict[str, Json]] = OrderedDict()
        self._max = max_orders
        self.version = 0
        self.frames = 0
        self.undecodable = 0

    def add_frame(self, raw: str | bytes) -> None:
        """One user-channel frame (an item or a list of items); anything else is counted and left."""
        text = raw.decode() if isinstance(raw, bytes) else raw
        if text.strip().upper() == "PONG":
            return
        try:
            value = json.loads(text)
        except ValueError:
            self.undecodable += 1
            return
        items = value if isinstance(value, list) else [value]
        with self._changed:
            for item in items:
                if isinstance(item, dict):
                    self._add(item)
            self.frames += 1
            self.version += 1
            self._changed.notify_all()

    def _add(self, item: Json) -> None:
        kind = item.get("event_type")
        if kind == "order" and item.get("id"):
            vid = str(item["id"])
            self._orders[vid] = item
            self._orders.move_to_end(vid)
        elif kind == "trade" and item.get("id"):
            # Our legs only: the taker's when we took, each maker order of our key's when we made.
            taker = item.get("trader_side") != "MAKER" or self._key is None
            legs = {str(item.get("taker_order_id", ""))} if taker else set()
            legs |= {
                str(m.get("order_id", ""))
                for m in item.get("maker_orders") or []
                if isinstance(m, dict) and (self._key is None or m.get("owner") == self._key)
            }
            for vid in legs - {""}:
                trades = self._trades.setdefault(vid, {})
                self._trades.move_to_end(vid)
                known = trades.get(str(item["id"]))
                if known is None or _rank(item) >= _rank(known):
                    trades[str(item["id"])] = item
        else:
            self.undecodable += 1
            return
        for book in (self._orders, self._trades):
            while len(book) > self._max:
                book.popitem(last=False)

    def seen(self, venue_order_id: str) -> tuple[Json | None, list[Json]]:
        """The latest `order` frame of the order (None: none yet) and its trades as last seen."""
        with self._changed:
            return self._orders.get(venue_order_id), list(self._trades.get(venue_order_id, {}).values())

    def wait(self, version: int, timeout_s: float) -> int:
        """Until a frame after `version` arrives or `timeout_s` passes; the version now."""
        with self._changed:
            if self.version == version and timeout_s > 0:
                self._changed.wait(timeout_s)
            return self.version

    def forget(self, venue_order_id: str) -> None:
        with self._changed:
            self._orders.pop(venue_order_id, None)
            self._trades.pop(venue_order_id, None)

    def __len__(self) -> int:
        with self._changed:
            return len(self._orders.keys() | self._trades.keys())


class UserChannelListener:
    """The socket on a daemon thread: `start()`, `stop()`; `connected` is set while subscribed."""

    def __init__(
        self,
        url: str,
        first_frames: Callable[[], Sequence[str]],
        pushed: PushedOrders,
        on_gap: Callable[[], None] = lambda: None,
        reconnect_s: float = 1.0,
        ping_s: float = 5.0,
    ) -> None:
        self._url = url
        self._first = first_frames
        self.pushed = pushed
        self._on_gap = on_gap
        self._reconnect_s = reconnect_s
        self._ping_s = ping_s
        self._stop = threading.Event()
        self.connected = threading.Event()
        self.sessions = 0
        self._thread = threading.Thread(target=self._run, name="user-channel", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._session()
            except (OSError, ConnectionClosed, InvalidHandshake, TimeoutError) as exc:
                log.warning("execute.user_channel_down", error=f"{type(exc).__name__}: {str(exc)[:200]}")
            self.connected.clear()
            self._stop.wait(self._reconnect_s)

    def _session(self) -> None:
        with connect(self._url, open_timeout=5, close_timeout=1, proxy=None) as ws:
            for frame in self._first():
                ws.send(frame)
            self.sessions += 1
            if self.sessions > 1:  # frames sent while we were away are lost: reconcile
                self._on_gap()
            self.connected.set()
            while not self._stop.is_set():
                try:
                    raw = ws.recv(timeout=self._ping_s)
                except TimeoutError:
                    ws.send("PING")
                    continue
                self.pushed.add_frame(raw)
