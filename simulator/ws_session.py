"""The read/write loop both CLOB sockets share: queued frames out, client frames in, PING -> PONG."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

CLOSE = object()
"""Queued to end a session from the server side (close code 1012, as a restart would)."""


async def _send_loop(ws: WebSocket, queue: asyncio.Queue[Any], on_sent: Callable[[], None]) -> None:
    while True:
        item = await queue.get()
        if item is CLOSE:
            await ws.close(code=1012)
            return
        await ws.send_text(item if isinstance(item, str) else json.dumps(item, separators=(",", ":")))
        on_sent()


async def serve_session(
    ws: WebSocket,
    queue: asyncio.Queue[Any],
    on_text: Callable[[str], None],
    on_sent: Callable[[], None] = lambda: None,
) -> None:
    """Run until the client leaves or the server closes; text `PING` is answered with `PONG`."""
    sender = asyncio.create_task(_send_loop(ws, queue, on_sent))
    try:
        while not sender.done():
            receive = asyncio.ensure_future(ws.receive_text())
            await asyncio.wait({receive, sender}, return_when=asyncio.FIRST_COMPLETED)
            if not receive.done():
                receive.cancel()
                break
            text = receive.result()
            if text.strip().upper() == "PING":
                queue.put_nowait("PONG")
            else:
                on_text(text)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        sender.cancel()
