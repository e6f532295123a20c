"""The replay-books scenario: recorded L2 books are the venue's book, so orders fill against books that
really happened.

Each recorded market becomes a window (its recorded slug, condition id, times; token ids as
`simulator.recorded_books` gives them; Gamma objects built as for synthetic windows), listed a day
before its start, closed at its end and resolved with its recorded winner: for the resolvedkit
fixture, which records payouts but not when they were paid, a seeded 15-60 s after the close (as the
synthetic scenario draws it); for archived windows at the time their RESOLVED event carries. A window
with no recorded winner is never resolved.

While a window trades, every step puts the latest recorded frame at or before scenario time on the
book as resting orders of one unlimited account (`sim-replay`), in Up-space; the Down book is its
mirror. Only levels whose recorded size changed are cancelled and placed again, stale levels first,
so the replayed orders never cross each other. What a user's order takes from a level stays taken
until the recording changes that level's size, and even then the exchange's refill delay
(`simulator.refill`) holds back the taken shares. When a frame has levels off the cent grid the
market's tick becomes 0.001 (with `tick_size_change`), as the venue's does near 0 and 1.

There is no oracle in these recordings: RTDS and the Binance stream stay silent in this scenario.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from simulator.book import BookSide, Side
from simulator.exchange import Exchange
from simulator.fixture_day import fixtures_dir
from simulator.gamma_objects import synthetic_market_base
from simulator.markets import ScaledClock, SimClock
from simulator.oracle import FeedPoint
from simulator.protocol import VenueError, account_key
from simulator.recorded_books import RESOLVEDKIT, BookFrame, RecordedBooks, RecordedMarket, load_resolvedkit
from simulator.scenario import Scenario, ScenarioSettings
from simulator.windows import (
    Window,
    WindowRegistry,
    WindowSettings,
    condition_id_for,
    question_for,
    rule_for,
)

REPLAY_OWNER = "sim-replay"
SCENARIO_NAME = "replay-books"


class _Silent:
    """No oracle prints: the recordings carry books only."""

    def until(self, publish_ms: int) -> Iterator[FeedPoint]:
        return iter(())


class BookReplayer:
    """Puts recorded frames on the exchange as `sim-replay` orders, changing only what changed."""

    def __init__(self, exchange: Exchange, frames: dict[str, list[BookFrame]]) -> None:
        self.exchange = exchange
        self.frames = frames
        self._times = {cid: [f.at for f in fs] for cid, fs in frames.items()}
        self._shown: dict[str, BookFrame] = {}
        self._orders: dict[str, dict[tuple[BookSide, Decimal], tuple[str, Decimal]]] = {}

    def frame_at(self, condition_id: str, at: datetime) -> BookFrame | None:
        """The latest recorded frame at or before `at`."""
        times = self._times.get(condition_id)
        if not times:
            return None
        i = bisect.bisect_right(times, at)
        return self.frames[condition_id][i - 1] if i else None

    def show(self, window: Window, at: datetime) -> None:
        frame = self.frame_at(window.condition_id, at)
        if frame is None or self._shown.get(window.condition_id) is frame:
            return
        self._shown[window.condition_id] = frame
        cid = window.condition_id
        best_bid = max((p for p, _ in frame.bids), default=None)
        best_ask = min((p for p, _ in frame.asks), default=None)
        window.quote = (best_bid, best_ask, window.quote[2])  # Gamma's bestBid/bestAsk/outcomePrices
        if frame.tick < self.exchange.tick_size(cid):
            self.exchange.set_tick_size(cid, frame.tick)
        wanted: dict[tuple[BookSide, Decimal], Decimal] = {("bid", p): s for p, s in frame.bids}
        wanted.update((("ask", p), s) for p, s in frame.asks)
        placed = self._orders.setdefault(cid, {})
        stale = [key for key, (_, size) in placed.items() if wanted.get(key) != size]
        if stale:
            self.exchange.cancel(account_key(REPLAY_OWNER), [placed[key][0] for key in stale])
            for key in stale:
                del placed[key]
        for (side, price), size in sorted(wanted.items()):
            if (side, price) in placed:
                continue
            order_side: Side = "BUY" if side == "bid" else "SELL"
            try:
                oid = self.exchange.place_liquidity(window.up_token_id, order_side, price, size, REPLAY_OWNER)
            except VenueError:  # the market closed under us, or a price outside the tick's range
                continue
            placed[(side, price)] = (oid, size)

    def forget(self, condition_id: str) -> None:
        self._orders.pop(condition_id, None)
        self._shown.pop(condition_id, None)


class ReplayBooksScenario(Scenario):
    """A `Scenario` whose book source is a recording and whose outcomes are the recorded ones."""

    def __init__(
        self,
        books: RecordedBooks,
        registry: WindowRegistry,
        settings: ScenarioSettings,
        start: datetime,
        seed: int,
        clock: SimClock,
    ) -> None:
        super().__init__(SCENARIO_NAME, registry, _Silent(), settings, start, seed, clock)
        self.books = books
        self.recorded = {m.slug: m for m in books.markets}
        self._replayer: BookReplayer | None = None

    def bind(self, exchange: Exchange) -> None:
        if self._replayer is None:
            self._replayer = BookReplayer(exchange, self.books.frames)
        super().bind(exchange)

    def _requote(self, t: datetime) -> None:
        if self._replayer is None:
            return
        for window in self.registry.listed():
            if window.end > t and not self.exchange.is_closed(window.condition_id):
                self._replayer.show(window, t)

    def _resolve(self, window: Window, at: datetime) -> None:
        recorded = self.recorded[window.slug]
        if self._replayer is not None:
            self._replayer.forget(window.condition_id)
        if recorded.winner is None:
            return
        self.registry.resolve(window.slug, recorded.winner, at, None, None)
        winner = window.winning_token
        if winner is not None:
            self.exchange.resolve_market(window.condition_id, winner)


def replay_window(recorded: RecordedMarket, settings: WindowSettings, seed: int) -> Window:
    """The registry's window for a recorded market: its ids and times, a synthetic Gamma object."""
    rng = random.Random(f"{seed}:{recorded.slug}")
    lo, hi = settings.resolve_delay_s
    resolve_at = recorded.resolved_at or recorded.end + timedelta(seconds=rng.randint(lo, hi))
    digest = condition_id_for(seed, recorded.slug)
    window = Window(
        slug=recorded.slug,
        asset=recorded.asset,
        interval_s=recorded.interval_s,
        start=recorded.start,
        end=recorded.end,
        condition_id=recorded.condition_id,
        up_token_id=recorded.up_token_id,
        down_token_id=recorded.down_token_id,
        market_id=str(1_000_000 + int(digest[2:14], 16) % 8_999_999),
        event_id=str(100_000 + int(digest[14:26], 16) % 899_999),
        question=question_for(recorded.asset, recorded.interval_s, recorded.start, recorded.end),
        created_at=recorded.start - timedelta(days=1),
        resolve_at=max(resolve_at, recorded.end),
        rule=rule_for(recorded.asset, recorded.interval_s, recorded.start),
        base={},
        recorded=True,
    )
    window.base = synthetic_market_base(window, settings, rng)
    return window


def build_replay_books(
    books: RecordedBooks | None = None,
    settings: ScenarioSettings | None = None,
    seed: int = 0,
    clock: SimClock | None = None,
    speed: float = 1.0,
) -> ReplayBooksScenario:
    """The replay-books scenario over `books` (default: the resolvedkit fixture, or the folder named by
    `settings.fixture_folder`), starting at `settings.start` or the first recorded book's second."""
    conf = settings or ScenarioSettings()
    if books is None:
        folder = Path(conf.fixture_folder) if conf.fixture_folder else fixtures_dir() / RESOLVEDKIT
        books = load_resolvedkit(folder)
    registry = WindowRegistry(conf.windows, seed)
    for market in books.markets:
        registry.add(replay_window(market, registry.settings, seed))
    first = books.first_at()
    if conf.start is not None:
        start = conf.start
    elif first is not None:
        start = first.replace(microsecond=0)
    else:
        raise ValueError("no recorded books to replay")
    return ReplayBooksScenario(books, registry, conf, start, seed, clock or ScaledClock(start, speed))
