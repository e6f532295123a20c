"""Realistic market-data events for the archive's tests and benchmark (seeded, so runs repeat)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from core.enums import BookSide, OracleStream, Side, WindowPhase
from core.ids import ConditionId, TokenId, WindowId
from core.models import (
    BookDelta,
    BookSnapshot,
    LastTrade,
    Level,
    LevelChange,
    MarketEvent,
    OracleTick,
    SpotTick,
    WindowEvent,
)

TOKEN = TokenId("71321045679252212594626385532706912750332728571942532289631379312455583992563")
CONDITION = ConditionId("0x" + "5f" * 32)


def _price(cents: int) -> Decimal:
    return Decimal(cents) / 100


def book_snapshot(ts: datetime, rng: random.Random, levels: int = 20) -> BookSnapshot:
    mid = rng.randint(30, 70)
    return BookSnapshot(
        source_ts=ts - timedelta(milliseconds=40),
        recv_ts=ts,
        source_id=f"{rng.getrandbits(64):016x}",
        token_id=TOKEN,
        condition_id=CONDITION,
        bids=tuple(
            Level(price=_price(mid - 1 - i), size=Decimal(f"{rng.randint(5, 5000)}.{i:02d}"))
            for i in range(levels)
        ),
        asks=tuple(
            Level(price=_price(mid + 1 + i), size=Decimal(f"{rng.randint(5, 5000)}.{i:02d}"))
            for i in range(levels)
        ),
        tick_size=Decimal("0.01"),
        book_hash=f"{rng.getrandbits(160):040x}",
    )


def book_delta(ts: datetime, rng: random.Random) -> BookDelta:
    side = rng.choice([BookSide.BID, BookSide.ASK])
    return BookDelta(
        source_ts=ts - timedelta(milliseconds=40),
        recv_ts=ts,
        source_id=f"{rng.getrandbits(64):016x}",
        token_id=TOKEN,
        condition_id=CONDITION,
        changes=(
            LevelChange(
                side=side, price=_price(rng.randint(1, 99)), size=Decimal(f"{rng.randint(0, 900)}.5")
            ),
        ),
        best_bid=Decimal("0.49"),
        best_ask=Decimal("0.51"),
        book_hash=f"{rng.getrandbits(160):040x}",
    )


def book_mix(
    start: datetime, count: int, seed: int = 0, snapshot_every: int = 10
) -> list[BookSnapshot | BookDelta]:
    """One snapshot then deltas, a new snapshot every `snapshot_every` events, 1 ms apart."""
    rng = random.Random(seed)
    return [
        book_snapshot(start + timedelta(milliseconds=n), rng)
        if n % snapshot_every == 0
        else book_delta(start + timedelta(milliseconds=n), rng)
        for n in range(count)
    ]


def one_of_each(ts: datetime, run: str) -> dict[str, MarketEvent]:
    """One event per md.* topic at `ts` (the keys are the topics); `run` marks the source ids."""
    rng = random.Random(run)
    return {
        "md.book": book_snapshot(ts, rng),
        "md.trades": LastTrade(
            source_ts=ts,
            recv_ts=ts,
            source_id=f"{run}:t",
            token_id=TOKEN,
            condition_id=CONDITION,
            price=Decimal("0.52"),
            size=Decimal("10"),
            side=Side.BUY,
        ),
        "md.oracle": OracleTick(
            source_ts=ts,
            recv_ts=ts,
            source_id=f"{run}:o",
            symbol="btc/usd",
            stream=OracleStream.CHAINLINK_SPOT,
            price=Decimal("97000.125"),
        ),
        "md.spot": SpotTick(
            source_ts=ts,
            recv_ts=ts,
            source_id=f"{run}:s",
            symbol="btcusdt",
            venue="binance",
            price=Decimal("97001.5"),
        ),
        "md.windows": WindowEvent(
            source_ts=ts,
            recv_ts=ts,
            source_id=f"{run}:w",
            phase=WindowPhase.OPEN,
            window_id=WindowId("btc-updown-5m-1780906500"),
            asset="btc",
            interval_s=300,
            condition_id=CONDITION,
            up_token_id=TOKEN,
            down_token_id=TokenId("1234"),
            start_ts=ts,
            end_ts=ts + timedelta(minutes=5),
        ),
    }
