"""WS /ws/events: signals, intents, orders and fills, positions and assertion results as they
happen, one JSON message each (`{"topic": ..., "event": {...}}`); `?topics=a,b` narrows it."""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from api.stream import STREAMED_TOPICS, Broadcaster

__all__ = ["router"]

router = APIRouter(tags=["stream"])


@router.websocket("/ws/events")
async def events(websocket: WebSocket, topics: str = "") -> None:
    wanted = frozenset(t.strip() for t in topics.split(",") if t.strip()) or frozenset(STREAMED_TOPICS)
    unknown = wanted - set(STREAMED_TOPICS)
    if unknown:
        await websocket.close(code=1008, reason=f"not streamed: {', '.join(sorted(unknown))}"[:120])
        return
    await websocket.accept()
    broadcaster: Broadcaster = websocket.app.state.broadcaster
    sub = broadcaster.subscribe(wanted)
    try:
        while True:
            message = await sub.queue.get()
            if sub.dropped:
                await websocket.send_json({"topic": "stream.lagged", "event": {"dropped": sub.dropped}})
                sub.dropped = 0
            await websocket.send_text(message)
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        broadcaster.unsubscribe(sub)
        with contextlib.suppress(RuntimeError):
            await websocket.close()
