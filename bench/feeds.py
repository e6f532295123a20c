"""Feed connectors' throughput: frames parsed and events produced per second per connector (market,
RTDS, user), the process's memory after a long replay, and a day of windows in a few minutes.

Frames are generated in the venue's shapes (market: a 20-level `book` per token, then `price_change`
frames whose best bid/ask stay consistent, so no resync is triggered; RTDS: Chainlink updates; user:
`order` and `trade` frames with MATCHED -> MINED -> CONFIRMED) and pushed through `WsRunner.handle_frame`,
the same path a socket frame takes (parse, de-duplicate, route, produce, feed monitor), without the
socket. Events go to the local stack's Kafka (or nowhere with `--sink null`, for a long replay that
does not flood the shared mock broker, which keeps only ~5 MB per partition). Frames are generated
lazily, so the RSS figures are the connectors' own state.

The day (`--hours 24`, `--hours 0` skips it) drives the real discovery, followers, market channel and
runner through every window of every asset and interval on an explicit clock (no simulator process:
on two shared cores it could not run 24 h at a few hundred times real speed), with Gamma and the
CLOB's `/book` answered in-process from the simulator's window objects, and market frames for the
followed tokens. It prints RSS and the size of every per-window map every `--sample-h` scenario
hours; both must stay flat once the de-duplicator's bounded id ring is full. Last line: one JSON
object.
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
from connectors.polymarket.gamma import WindowDiscovery
from connectors.polymarket.market_ws import MarketChannel
from connectors.polymarket.user_ws import ApiCreds, UserChannel
from connectors.rtds import RtdsChannel
from connectors.window_follow import WindowFollowers
from connectors.ws_runner import Channel, EventSink, RunnerConfig, WsRunner
from core.models import Event, WindowEvent
from core.settlement import Verdict
from infra import stack
from polywindow.settings import StackSettings, load
from simulator.gamma_objects import market_json, synthetic_market_base
from simulator.windows import (
    Window,
    WindowSettings,
    condition_id_for,
    question_for,
    rule_for,
    slug_for,
    token_id_for,
)

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


class DayVenue:
    """Gamma and the CLOB's `/book` for a synthetic day, answered in-process on the bench's clock.

    Windows are made from the simulator's objects as discovery asks for them and dropped once out
    of its range, so the venue's own memory stays out of the figures."""

    def __init__(self, clock: list[datetime], assets: list[str], intervals: list[int]) -> None:
        self.clock, self.assets, self.intervals = clock, assets, intervals
        self.settings = WindowSettings()
        self.windows: dict[str, Window] = {}
        self.rng = random.Random(7)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/book"):
            return httpx.Response(200, json={})
        asked = set(request.url.params.get_list("slug"))
        now = self.clock[0]
        live: dict[str, Window] = {}
        for interval in self.intervals:
            current = int(now.timestamp()) // interval * interval
            for asset in self.assets:
                for k in range(-2, 2):
                    start = datetime.fromtimestamp(current + k * interval, UTC)
                    slug = slug_for(asset, interval, start)
                    live[slug] = self.windows.get(slug) or self._make(asset, interval, start)
        self.windows = live
        for w in live.values():
            if w.verdict is None and now >= w.resolve_at:
                w.verdict, w.resolved_at = self.rng.choice([Verdict.UP, Verdict.DOWN]), w.resolve_at
        return httpx.Response(
            200, json=[market_json(w, now, self.settings) for s, w in live.items() if s in asked]
        )

    def _make(self, asset: str, interval: int, start: datetime) -> Window:
        slug, end = slug_for(asset, interval, start), start + timedelta(seconds=interval)
        window = Window(
            slug=slug, asset=asset, interval_s=interval, start=start, end=end,
            condition_id=condition_id_for(0, slug), up_token_id=token_id_for(0, slug, "Up"),
            down_token_id=token_id_for(0, slug, "Down"), market_id="1000001", event_id="100001",
            question=question_for(asset, interval, start, end), created_at=start - timedelta(days=1),
            resolve_at=end + timedelta(seconds=30), rule=rule_for(asset, interval, start), base={},
        )  # fmt: skip
        window.base = synthetic_market_base(window, self.settings, random.Random(slug))
        return window


def book_frame(token: str, at_ms: int) -> str:
    """A 20-level book whose best bid/ask (0.49/0.51) the price changes below never move."""
    bids = [{"price": f"0.{c:02d}", "size": "100"} for c in range(30, 50)]
    asks = [{"price": f"0.{c:02d}", "size": "100"} for c in range(70, 50, -1)]
    return json.dumps(
        {"event_type": "book", "asset_id": token, "market": CID, "timestamp": str(at_ms), "hash": "h",
         "bids": bids, "asks": asks}
    )  # fmt: skip


def price_change(token: str, at_ms: int, n: int) -> str:
    side = "BUY" if n % 2 else "SELL"
    cents = 30 + n % 15 if side == "BUY" else 56 + n % 15
    change = {"asset_id": token, "price": f"0.{cents:02d}", "size": str(10 + n % 400), "side": side,
              "hash": f"{n:040x}", "best_bid": "0.49", "best_ask": "0.51"}  # fmt: skip
    return json.dumps(
        {"event_type": "price_change", "market": CID, "timestamp": str(at_ms), "price_changes": [change]}
    )


def day_sizes(
    discovery: WindowDiscovery, market: MarketChannel, user: UserChannel, runner: WsRunner, venue: DayVenue
) -> dict[str, int]:
    return {
        "discovery_phases": len(discovery.windows.phases),
        "discovery_invalid": len(discovery.windows.invalid),
        "discovery_rejects": len(discovery.rejects),
        "market_books": len(market.books),
        "user_markets": len(user.windows),
        "dedupe_subjects": runner.dedupe.subjects,
        "dedupe_ids": len(runner.dedupe),
        "rate_keys": runner.rates.keys,
        "bench_venue_windows": len(venue.windows),
    }


async def day(args: argparse.Namespace) -> dict[str, object]:
    """`args.hours` scenario hours of discovery polls every `args.poll_s`, market frames between them."""
    assets, intervals = ["btc", "eth", "sol", "xrp"], [300, 900, 3600]
    t0 = datetime.fromtimestamp(T0_MS // 1000 // 3600 * 3600, UTC)
    clock = [t0]
    venue = DayVenue(clock, assets, intervals)
    transport = httpx.MockTransport(venue.handle)
    forgotten = 0
    samples: list[dict[str, object]] = []
    started = time.perf_counter()
    rss_start = rss_mb()
    async with httpx.AsyncClient(transport=transport, base_url="http://day") as http:
        market = MarketChannel("ws://unused", http)
        user = UserChannel("ws://unused", ApiCreds(KEY, SecretStr("s"), SecretStr("p")))
        runner = WsRunner(
            market, NullSink(), None, RunnerConfig(silence_gap=None), lambda: clock[0], random.random
        )
        followers = WindowFollowers(market, user, [runner])

        def on_forget(event: WindowEvent) -> None:
            nonlocal forgotten
            forgotten += 1
            followers.forget(event)

        discovery = WindowDiscovery(
            http, http, NullSink(), assets, intervals, lambda: clock[0], followers.window, on_forget=on_forget
        )
        booked: set[str] = set()
        followed: list[str] = []
        frames = 0
        sample_every = int(args.sample_h * 3600)
        for second in range(int(args.hours * 3600) + 1):
            clock[0] = t0 + timedelta(seconds=second)
            if second % args.poll_s == 0:
                await discovery.poll()
                followed = market.followed()
                booked &= set(followed)
                for token in followed:
                    if token not in booked:
                        booked.add(token)
                        await runner.handle_frame(
                            book_frame(token, int(clock[0].timestamp() * 1000)), clock[0]
                        )
            if followed:
                for i in range(args.frames_per_s):
                    frames += 1
                    at = clock[0] + timedelta(milliseconds=i)
                    token = followed[frames % len(followed)]
                    await runner.handle_frame(price_change(token, int(at.timestamp() * 1000), frames), at)
            if second % sample_every == 0:
                runner.rates.rates(clock[0], followed)  # what the stats chore asks every 10 s
                sample: dict[str, object] = {
                    "hour": round(second / 3600, 1),
                    "rss_mb": round(rss_mb(), 1),
                    **day_sizes(discovery, market, user, runner, venue),
                }
                samples.append(sample)
                print(f"day: {sample}", file=sys.stderr)
    return {
        "mode": "explicit clock, components driven directly (no simulator process)",
        "scenario_hours": args.hours,
        "elapsed_s": round(time.perf_counter() - started, 1),
        "windows_forgotten": forgotten,
        "frames": frames,
        "events": runner.counts["events"],
        "resyncs": market.counts["resyncs"],
        "rss_mb_start": round(rss_start, 1),
        "rss_mb_end": samples[-1]["rss_mb"],
        "samples": samples,
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
    if args.hours > 0:
        results["day"] = await day(args)
    results["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--market", type=int, default=30_000, help="price_change frames to replay")
    parser.add_argument("--rtds", type=int, default=20_000)
    parser.add_argument("--user", type=int, default=10_000)
    parser.add_argument("--sink", choices=["kafka", "null"], default="kafka")
    parser.add_argument("--hours", type=float, default=24, help="scenario hours of the day run (0: skip)")
    parser.add_argument("--poll-s", type=int, default=5, help="discovery poll period, scenario seconds")
    parser.add_argument("--frames-per-s", type=int, default=10, help="market frames per scenario second")
    parser.add_argument("--sample-h", type=float, default=2, help="RSS and map sizes every this many hours")
    out = asyncio.run(main(parser.parse_args()))
    for name in ("market", "rtds", "user"):
        print(f"{name}: {out[name]}", file=sys.stderr)
    print(json.dumps(out))
