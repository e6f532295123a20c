"""Feed connectors' throughput: frames parsed and events produced per second per connector (market,
RTDS, user), and the process's memory after a long replay.

Frames are generated in the venue's shapes (market: a 20-level `book` per token, then `price_change`
frames whose best bid/ask stay consistent, so no resync is triggered; RTDS: Chainlink updates; user:
`order` and `trade` frames with MATCHED -> MINED -> CONFIRMED) and pushed through `WsRunner.handle_frame`,
the same path a socket frame takes (parse, de-duplicate, route, produce, feed monitor), without the
socket. Events go to the local stack's Kafka (or nowhere with `--sink null`, for a long replay that
does not flood the shared mock broker, which keeps only ~5 MB per partition). Frames are generated
lazily, so the RSS figures are the connectors' own state. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from pydantic import SecretStr

from connectors.kafka import EventProducer
from connectors.polymarket.market_ws import MarketChannel
from connectors.polymarket.user_ws import ApiCreds, UserChannel
from connectors.rtds import RtdsChannel
from connectors.ws_runner import Channel, EventSink, RunnerConfig, WsRunner
from core.models import Event
from infra import stack
from polywindow.settings import StackSettings, load

CID = "0x" + "ab" * 32
UP, DOWN = str(10**76 + 11), str(10**76 + 12)
KEY = "11111111-2222-3333-4444-555555555555"
T0_MS = 1_780_906_500_000


class NullSink:
    def produce(self, topic_name: str, event: Event) -> None:
        return None


def market_frames(n: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    books = {t: {"BUY": {}, "SELL": {}} for t in (UP, DOWN)}  # type: dict[str, dict[str, dict[int, int]]]
    for token, book in books.items():
        book["BUY"] = {c: rng.randrange(5, 500) for c in range(30, 50)}
        book["SELL"] = {c: rng.randrange(5, 500) for c in range(51, 71)}
        yield json.dumps(
            {
                "event_type": "book",
                "asset_id": token,
                "market": CID,
                "timestamp": str(T0_MS),
                "hash": f"h{token[-2:]}",
                "bids": [{"price": f"0.{c:02d}", "size": str(s)} for c, s in sorted(book["BUY"].items())],
                "asks": [
                    {"price": f"0.{c:02d}", "size": str(s)}
                    for c, s in sorted(book["SELL"].items(), reverse=True)
                ],
            }
        )
    for i in range(n):
        token = UP if i % 2 else DOWN
        book = books[token]
        side = "BUY" if rng.random() < 0.5 else "SELL"
        cents = rng.randrange(30, 50) if side == "BUY" else rng.randrange(51, 71)
        size = 0 if rng.random() < 0.2 else rng.randrange(5, 500)
        if size:
            book[side][cents] = size
        else:
            book[side].pop(cents, None)
        best_bid = f"0.{max(book['BUY']):02d}" if book["BUY"] else "0"
        best_ask = f"0.{min(book['SELL']):02d}" if book["SELL"] else "1"
        change = {
            "asset_id": token,
            "price": f"0.{cents:02d}",
            "size": str(size),
            "side": side,
            "hash": f"{i:040x}",
            "best_bid": best_bid,
            "best_ask": best_ask,
        }
        ts = str(T0_MS + 1 + i)
        yield json.dumps(
            {"event_type": "price_change", "market": CID, "timestamp": ts, "price_changes": [change]}
        )


def rtds_frames(n: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    price = 80_000 * 10**18
    for i in range(n):
        price += rng.randrange(-(10**19), 10**19)
        obs = T0_MS + i * 1000
        payload = {
            "symbol": "btc/usd",
            "timestamp": obs,
            "value": price / 1e18,
            "full_accuracy_value": str(price),
        }
        yield json.dumps(
            {"topic": "crypto_prices_chainlink", "type": "update", "timestamp": obs + 400, "payload": payload}
        )


def user_frames(n: int) -> Iterator[str]:
    for i in range(n):
        order_id = f"0x{i:064x}"
        ts = str(T0_MS + i)
        if i % 4 == 0:
            yield json.dumps(
                {
                    "event_type": "order", "id": order_id, "owner": KEY, "market": CID, "asset_id": UP,
                    "side": "BUY", "price": "0.57", "original_size": "10", "size_matched": "0",
                    "outcome": "Up", "type": "PLACEMENT", "status": "LIVE", "order_type": "GTC",
                    "timestamp": ts,
                }
            )  # fmt: skip
            continue
        status = ("MATCHED", "MINED", "CONFIRMED")[i % 4 - 1]
        yield json.dumps(
            {
                "event_type": "trade", "type": "TRADE", "id": f"trade-{i // 4}", "taker_order_id": "0x" + "1" * 64,
                "market": CID, "asset_id": UP, "side": "BUY", "size": "5", "price": "0.57",
                "fee_rate_bps": "1000", "status": status, "match_time": "1780906702", "outcome": "Up",
                "trader_side": "TAKER", "transaction_hash": "", "maker_orders": [], "timestamp": ts,
            }
        )  # fmt: skip


def rss_mb() -> float:
    with Path("/proc/self/statm").open() as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


async def measure(channel: Channel, frames: Iterator[str], sink: EventSink) -> dict[str, float]:
    runner = WsRunner(
        channel, sink, None, RunnerConfig(silence_gap=None), lambda: datetime.now(UTC), random.random
    )
    recv = datetime.now(UTC)
    step = timedelta(microseconds=50)
    start = time.perf_counter()
    count = 0
    for frame in frames:
        await runner.handle_frame(frame, recv + count * step)
        count += 1
    flush = getattr(sink, "flush", None)
    if flush is not None:
        flush(60)
    elapsed = time.perf_counter() - start
    return {
        "frames_per_s": round(count / elapsed),
        "events_per_s": round(runner.counts["events"] / elapsed),
        "frames": count,
        "events": runner.counts["events"],
        "quarantined": runner.counts["quarantined"],
        "duplicates": runner.counts["duplicates"],
    }


async def main(args: argparse.Namespace) -> dict[str, object]:
    if args.sink == "kafka":
        settings = load(StackSettings)
        url = settings.database_url.get_secret_value() if settings.database_url else None
        found = stack.endpoints(settings.stack_dir, url, settings.kafka_bootstrap_servers)
        sink: EventSink = EventProducer(found.kafka_bootstrap, settings.kafka_client())
    else:
        sink = NullSink()
    rss_start = rss_mb()
    results: dict[str, object] = {"sink": args.sink}
    async with httpx.AsyncClient(
        base_url="http://127.0.0.1:9"
    ) as dead:  # a resync would fail loudly in counts
        market = MarketChannel("ws://unused", dead, [UP, DOWN])
        results["market"] = await measure(market, market_frames(args.market, 1), sink)
        results["market"]["resyncs"] = market.counts["resyncs"]  # type: ignore[index]
    results["rtds"] = await measure(RtdsChannel("ws://unused", ["btc"]), rtds_frames(args.rtds, 2), sink)
    creds = ApiCreds(KEY, SecretStr("s"), SecretStr("p"))
    results["user"] = await measure(UserChannel("ws://unused", creds), user_frames(args.user), sink)
    results["rss_mb_start"] = round(rss_start, 1)
    results["rss_mb_end"] = round(rss_mb(), 1)
    results["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--market", type=int, default=30_000, help="price_change frames to replay")
    parser.add_argument("--rtds", type=int, default=20_000)
    parser.add_argument("--user", type=int, default=10_000)
    parser.add_argument("--sink", choices=["kafka", "null"], default="kafka")
    out = asyncio.run(main(parser.parse_args()))
    for name in ("market", "rtds", "user"):
        print(f"{name}: {out[name]}", file=sys.stderr)
    print(json.dumps(out))
