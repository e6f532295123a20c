"""The websocket fan-out: each subscriber gets its topics only; a slow one loses its oldest
messages (counted), never holding the others up."""

from __future__ import annotations

import asyncio
import json

from api.stream import Broadcaster


def test_subscribers_get_their_topics_and_a_full_queue_drops_the_oldest() -> None:
    async def scenario() -> None:
        hub = Broadcaster(per_client=2)
        signals = hub.subscribe(frozenset({"trade.signals"}))
        everything = hub.subscribe(frozenset({"trade.signals", "ops.assertions"}))
        for n in range(3):
            hub.publish("trade.signals", json.dumps({"n": n}))
        hub.publish("ops.assertions", json.dumps({"n": 9}))
        await asyncio.sleep(0)  # the loop runs the queued hand-overs
        got = [json.loads(signals.queue.get_nowait())["event"]["n"] for _ in range(signals.queue.qsize())]
        assert got == [1, 2] and signals.dropped == 1
        rest = [
            json.loads(everything.queue.get_nowait())["event"]["n"] for _ in range(everything.queue.qsize())
        ]
        assert rest == [2, 9] and everything.dropped == 2
        hub.unsubscribe(signals)
        assert hub.clients == 1

    asyncio.run(scenario())
