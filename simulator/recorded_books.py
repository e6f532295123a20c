"""Recorded L2 books for the replay-books scenario: the resolvedkit 15-minute fixture, or archived events.

Two sources give the same shape, `RecordedBooks`: the markets (window times, ids and the recorded
winner) and, per market, its book in Up-space over time (one frame per recorded book). A frame's
bids are Up bids and its asks Up asks; the Down book is their mirror, as on the venue's one book.

- `load_resolvedkit(folder)`: `../shared/fixtures/resolvedkit-btc15m-2026-09-28` (markets.parquet,
  books.parquet). Prices and sizes are stored as binary floats there: prices are read through the
  0.001 grid (they sit on 0.01, and on 0.001 near 0 and 1), sizes to 2 decimals. The fixture has no
  token ids, so each side gets the id `tests/fixture_archive.py` gives it (sha256 of
  "<market id>/<UP|DOWN>", first 30 hex digits), and the archive of that fixture and this replay
  agree. The UP rows are used; a market recorded only on its DOWN side is mirrored.
- `books_from_events(events)`: decoded `md.windows` and `md.book` events of the project's archive
  (the composition root reads them with `sinks.archive_reader.read_archive`; the simulator may import
  only core). Snapshots and deltas are applied with `core.orderbook`, one frame per event of the Up
  token (of the Down token, mirrored, for a market with no Up events). The winner is the venue's
  outcome on the window's RESOLVED event, at that event's time; a window without one is not resolved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from core.enums import BookSide, Outcome, WindowPhase
from core.models import BookDelta, BookSnapshot, WindowEvent
from core.orderbook import Applied, OrderBook
from core.settlement import Verdict

RESOLVEDKIT = "resolvedkit-btc15m-2026-09-28"
CENT = Decimal("0.01")
MILL = Decimal("0.001")
ONE = Decimal(1)
Levels = tuple[tuple[Decimal, Decimal], ...]


@dataclass(frozen=True, slots=True)
class BookFrame:
    """One recorded book of a market in Up-space: (price, size) levels, best first."""

    at: datetime
    bids: Levels
    asks: Levels

    @property
    def tick(self) -> Decimal:
        """0.001 when any level is off the cent grid (the venue's tick near 0 and 1), else 0.01."""
        fine = any(p % CENT for p, _ in (*self.bids, *self.asks))
        return MILL if fine else CENT


@dataclass(frozen=True, slots=True)
class RecordedMarket:
    slug: str
    condition_id: str
    up_token_id: str
    down_token_id: str
    start: datetime
    end: datetime
    asset: str = "btc"
    winner: Verdict | None = None
    resolved_at: datetime | None = None

    @property
    def interval_s(self) -> int:
        return int((self.end - self.start).total_seconds())


@dataclass(slots=True)
class RecordedBooks:
    markets: list[RecordedMarket] = field(default_factory=list)
    frames: dict[str, list[BookFrame]] = field(default_factory=dict)

    def first_at(self) -> datetime | None:
        starts = [f[0].at for f in self.frames.values() if f]
        return min(starts) if starts else None


def token_of(market_id: str, side: str) -> str:
    """The token id the fixture archive gives a resolvedkit side (the fixture has none)."""
    return str(int(hashlib.sha256(f"{market_id}/{side}".encode()).hexdigest()[:30], 16))


def _utc_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


class _Grid:
    """Float prices and sizes to Decimal through the grid, memoised: the fixture repeats them a lot."""

    def __init__(self) -> None:
        self._prices: dict[int, Decimal] = {}
        self._sizes: dict[float, Decimal] = {}

    def levels(self, prices: list[float], sizes: list[float], mirror: bool) -> Levels:
        out = []
        for p, s in zip(prices, sizes, strict=True):
            mills = round(p * 1000)
            key = -mills if mirror else mills
            price = self._prices.get(key)
            if price is None:
                price = (Decimal(1000 - mills if mirror else mills) * MILL).normalize()
                self._prices[key] = price
            size = self._sizes.get(s)
            if size is None:
                size = self._sizes[s] = Decimal(f"{s:.2f}")
            if size > 0:
                out.append((price, size))
        return tuple(out)


def load_resolvedkit(folder: Path) -> RecordedBooks:
    """The fixture's 18 windows with their recorded payouts and their books, one frame per UP row."""
    import pyarrow.parquet as pq

    books = RecordedBooks()
    for m in pq.read_table(folder / "markets.parquet").to_pylist():
        cid = str(m["market_id"])
        winner = Verdict.UP if float(m["payout_up"]) >= 1 else Verdict.DOWN
        start, end = _utc_ms(int(m["start_ts"])), _utc_ms(int(m["end_ts"]))
        books.markets.append(
            RecordedMarket(
                str(m["slug"]), cid, token_of(cid, "UP"), token_of(cid, "DOWN"), start, end, winner=winner
            )
        )
    rows = pq.read_table(folder / "books.parquet").to_pylist()
    grid = _Grid()
    up_markets = {r["market_id"] for r in rows if r["side"] == "UP"}
    for r in sorted(rows, key=lambda row: int(row["ts"])):
        mirror = r["side"] == "DOWN"
        if mirror and r["market_id"] in up_markets:
            continue
        bids = grid.levels(
            r["ask_px"] if mirror else r["bid_px"], r["ask_sz"] if mirror else r["bid_sz"], mirror
        )
        asks = grid.levels(
            r["bid_px"] if mirror else r["ask_px"], r["bid_sz"] if mirror else r["ask_sz"], mirror
        )
        books.frames.setdefault(r["market_id"], []).append(BookFrame(_utc_ms(int(r["ts"])), bids, asks))
    return books


def _frame(book: OrderBook, at: datetime, mirror: bool) -> BookFrame:
    bids = sorted(book.levels(BookSide.BID).items(), reverse=True)
    asks = sorted(book.levels(BookSide.ASK).items())
    if mirror:
        return BookFrame(at, tuple((ONE - p, s) for p, s in asks), tuple((ONE - p, s) for p, s in bids))
    return BookFrame(at, tuple(bids), tuple(asks))


def books_from_events(events: Iterable[object]) -> RecordedBooks:
    """Markets and frames from decoded archive events (`WindowEvent`, `BookSnapshot`, `BookDelta`), in order."""
    windows: dict[str, WindowEvent] = {}
    resolved: dict[str, WindowEvent] = {}
    tokens: dict[str, tuple[str, bool]] = {}
    books: dict[str, OrderBook] = {}
    frames: dict[str, list[BookFrame]] = {}
    up_seen: set[str] = set()
    for event in events:
        if isinstance(event, WindowEvent):
            cid = str(event.condition_id)
            windows.setdefault(cid, event)
            tokens[str(event.up_token_id)] = (cid, False)
            tokens[str(event.down_token_id)] = (cid, True)
            if event.phase is WindowPhase.RESOLVED and event.venue_outcome is not None:
                resolved[cid] = event
            continue
        if not isinstance(event, (BookSnapshot, BookDelta)):
            continue
        token = str(event.token_id)
        if token not in tokens:
            continue
        cid, mirror = tokens[token]
        if mirror and cid in up_seen:
            continue
        if not mirror and cid not in up_seen:
            up_seen.add(cid)
            frames[cid] = []  # Up events from here on: frames mirrored from Down are replaced
        book = books.setdefault(token, OrderBook(token))
        applied = book.apply_snapshot(event) if isinstance(event, BookSnapshot) else book.apply_delta(event)
        if applied in (Applied.OK, Applied.DRIFT):
            frames.setdefault(cid, []).append(_frame(book, event.source_ts, mirror))
    out = RecordedBooks(frames={cid: sorted(f, key=lambda fr: fr.at) for cid, f in frames.items()})
    for cid, w in windows.items():
        final = resolved.get(cid)
        winner = None
        if final is not None:
            winner = Verdict.UP if final.venue_outcome is Outcome.UP else Verdict.DOWN
        out.markets.append(
            RecordedMarket(
                str(w.window_id),
                cid,
                str(w.up_token_id),
                str(w.down_token_id),
                w.start_ts,
                w.end_ts,
                asset=w.asset,
                winner=winner,
                resolved_at=final.source_ts if final is not None else None,
            )
        )
    return out
