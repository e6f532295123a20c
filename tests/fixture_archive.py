"""The resolvedkit BTC 15-minute fixture (real L2 books, ../shared/fixtures) written into archive
form: `md.windows` announcements and resolutions plus one `md.book` snapshot per fixture row, so a
replay test or benchmark reads real books through `read_archive` like recorded data.

Fixture prices and sizes are binary floats: prices go through the tick grid (0.01, and 0.001 near
0 and 1, where the venue's tick shrinks), sizes to two decimals. The fixture has no token ids; each side gets a stable id derived from the market id.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from connectors.fixture_files import fixtures_dir
from core.enums import Outcome, WindowPhase
from core.ids import ConditionId, TokenId, WindowId
from core.models import BookSnapshot, Event, Level, WindowEvent
from core.serde import encode
from sinks.archive import ArchiveRow, day_dir, write_part

FIXTURE = fixtures_dir() / "resolvedkit-btc15m-2026-09-28"
ROLL_S = 60
FIRST_TS = datetime(2026, 9, 28, tzinfo=UTC)
_CENT = Decimal("0.01")
_MILL = Decimal("0.001")


def token_of(market_id: str, side: str) -> TokenId:
    return TokenId(str(int(hashlib.sha256(f"{market_id}/{side}".encode()).hexdigest()[:30], 16)))


def _ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)


def _levels(prices: list[float], sizes: list[float]) -> tuple[Level, ...]:
    return tuple(
        Level(price=(Decimal(round(p * 1000)) * _MILL).normalize(), size=Decimal(f"{s:.2f}"))
        for p, s in zip(prices, sizes, strict=True)
        if s > 0
    )


def _tick(prices: list[float]) -> Decimal:
    return _CENT if all(round(p * 1000) % 10 == 0 for p in prices) else _MILL


def _winner(market: dict[str, object]) -> Outcome | None:
    """The recorded payout's winner (None when the fixture row pays neither side in full)."""
    if market.get("payout_up") == 1.0:
        return Outcome.UP
    if market.get("payout_down") == 1.0:
        return Outcome.DOWN
    return None


def _window(
    market: dict[str, object], phase: WindowPhase, at: datetime, outcome: Outcome | None = None
) -> WindowEvent:
    market_id = str(market["market_id"])
    start, end = int(market["start_ts"]), int(market["end_ts"])  # type: ignore[call-overload]
    return WindowEvent(
        source_ts=at,
        recv_ts=at,
        phase=phase,
        window_id=WindowId(str(market["slug"])),
        asset="btc",
        interval_s=(end - start) // 1000,
        condition_id=ConditionId(market_id),
        up_token_id=token_of(market_id, "UP"),
        down_token_id=token_of(market_id, "DOWN"),
        start_ts=_ms(start),
        end_ts=_ms(end),
        settlement_rule=None,
        venue_outcome=outcome,
    )


def _row(topic: str, offset: int, event: Event, recv: datetime) -> ArchiveRow:
    source_ts = getattr(event, "source_ts", recv)
    return ArchiveRow(
        topic, 0, offset, None, encode(event), getattr(event, "kind", None), source_ts, recv, recv
    )


def write_fixture_archive(archive_dir: Path, start: datetime, end: datetime, outcomes: bool = False) -> int:
    """The fixture's windows starting in [start, end) and their books, archived; returns book rows.
    With `outcomes` the RESOLVED events carry the venue's outcome from the recorded payouts."""
    markets = [
        m for m in pq.read_table(FIXTURE / "markets.parquet").to_pylist() if start <= _ms(m["start_ts"]) < end
    ]
    ids = [m["market_id"] for m in markets]
    books = pq.read_table(FIXTURE / "books.parquet")
    books = books.filter(pc.is_in(books["market_id"], value_set=pc.cast(ids, books["market_id"].type)))
    windows: list[ArchiveRow] = []
    for m in markets:
        first = _ms(int(m["start_ts"])) - timedelta(minutes=20)
        last = _ms(int(m["end_ts"])) + timedelta(seconds=120)
        windows.append(_row("md.windows", len(windows), _window(m, WindowPhase.OPEN, first), first))
        windows.append(
            _row(
                "md.windows",
                len(windows),
                _window(m, WindowPhase.RESOLVED, last, _winner(m) if outcomes else None),
                last,
            )
        )
    rows: list[ArchiveRow] = []
    for b in books.to_pylist():
        at = _ms(b["ts"])
        snapshot = BookSnapshot(
            source_ts=at,
            recv_ts=at + timedelta(milliseconds=5),
            token_id=token_of(b["market_id"], b["side"]),
            condition_id=ConditionId(b["market_id"]),
            bids=_levels(b["bid_px"], b["bid_sz"]),
            asks=_levels(b["ask_px"], b["ask_sz"]),
            tick_size=_tick(b["bid_px"] + b["ask_px"]),
        )
        rows.append(_row("md.book", len(rows), snapshot, snapshot.recv_ts))
    for topic, group in (("md.windows", windows), ("md.book", rows)):
        parts: dict[tuple[date, int], list[ArchiveRow]] = {}
        for r in group:  # one part per minute, as `record` rolls them (POLYWINDOW_ARCHIVE_ROLL_S)
            at = r.order_ts or FIRST_TS
            parts.setdefault((at.date(), int(at.timestamp()) // ROLL_S), []).append(r)
        for (day, _), part in sorted(parts.items()):
            write_part(day_dir(archive_dir, topic, day), part)
    return len(rows)
