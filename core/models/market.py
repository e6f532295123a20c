"""Market-data events: `md.book`, `md.trades`, `md.oracle`, `md.spot`, `md.windows`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from core.enums import BookSide, OracleStream, Outcome, Side, WindowPhase
from core.ids import ConditionId, TokenId, WindowId
from core.models.base import MarketEvent
from core.money import OraclePrice, Price, Size
from core.timestamps import UtcDatetime


class Level(BaseModel):
    """One price level: the total size resting at `price`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    price: Price
    size: Size


class BookSnapshot(MarketEvent):
    """Full book of one token; replaces whatever the reader held. Levels are best-first here."""

    kind: Literal["book"] = "book"
    token_id: TokenId
    condition_id: ConditionId
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    tick_size: Price | None = None
    book_hash: str | None = None


class LevelChange(BaseModel):
    """`size` is the new total at `price` (zero deletes the level), as the venue sends it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    side: BookSide
    price: Price
    size: Size


class BookDelta(MarketEvent):
    """Level changes of one token, with the venue's best bid/ask after them (for drift checks)."""

    kind: Literal["delta"] = "delta"
    token_id: TokenId
    condition_id: ConditionId
    changes: tuple[LevelChange, ...]
    best_bid: Price | None = None
    best_ask: Price | None = None
    book_hash: str | None = None


class TickSizeChange(MarketEvent):
    kind: Literal["tick_size"] = "tick_size"
    token_id: TokenId
    condition_id: ConditionId
    old_tick_size: Price
    new_tick_size: Price


class BestBidAsk(MarketEvent):
    kind: Literal["best_bid_ask"] = "best_bid_ask"
    token_id: TokenId
    condition_id: ConditionId
    best_bid: Price | None
    best_ask: Price | None


BookEvent = Annotated[BookSnapshot | BookDelta | TickSizeChange | BestBidAsk, Field(discriminator="kind")]


class LastTrade(MarketEvent):
    """A public trade print (`last_trade_price`); `side` is the taker's."""

    kind: Literal["last_trade"] = "last_trade"
    token_id: TokenId
    condition_id: ConditionId
    price: Price
    size: Size
    side: Side
    fee_rate_bps: int | None = None


class OracleTick(MarketEvent):
    """A Chainlink observation (the resolution source); `source_ts` is the observation second."""

    kind: Literal["oracle"] = "oracle"
    symbol: str = Field(pattern=r"^[a-z0-9]+/[a-z]+$")
    stream: OracleStream
    price: OraclePrice


class SpotTick(MarketEvent):
    """An exchange spot price (context, never settlement), e.g. Binance `btcusdt`."""

    kind: Literal["spot"] = "spot"
    symbol: str = Field(pattern=r"^[a-z0-9]+$")
    venue: str
    price: OraclePrice


class Candle(MarketEvent):
    """An exchange candle (Binance klines), running or closed: hourly windows settle on the 1-hour
    candle of their hour (open = strike, Up iff close >= open). `source_ts` is the exchange's event
    time (for a REST backfill, our receive time); only a `closed` candle's close is final."""

    kind: Literal["candle"] = "candle"
    symbol: str = Field(pattern=r"^[a-z0-9]+$")
    venue: str
    interval_s: int = Field(gt=0)
    open_ts: UtcDatetime
    open: OraclePrice
    high: OraclePrice
    low: OraclePrice
    close: OraclePrice
    closed: bool


SpotEvent = Annotated[SpotTick | Candle, Field(discriminator="kind")]


class WindowEvent(MarketEvent):
    """A window's lifecycle step: discovered, open, closed, resolved; carries everything to trade it."""

    kind: Literal["window"] = "window"
    phase: WindowPhase
    window_id: WindowId
    asset: str = Field(pattern=r"^[a-z]{2,10}$")
    interval_s: int = Field(gt=0)
    condition_id: ConditionId
    up_token_id: TokenId
    down_token_id: TokenId
    start_ts: UtcDatetime
    end_ts: UtcDatetime
    strike: OraclePrice | None = None
    settlement_rule: str | None = None
    our_outcome: Outcome | None = None
    venue_outcome: Outcome | None = None
