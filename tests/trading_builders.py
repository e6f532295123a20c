"""Builders for the trading core: events as the feeds publish them, states reached by applying them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.controls import RuntimeControls, apply_snapshot
from core.enums import ControlName, OracleStream, WindowPhase
from core.ids import ConditionId, TokenId, WindowId
from core.models import (
    BookSnapshot,
    ControlChange,
    ControlsSnapshot,
    Level,
    OracleTick,
    SpotTick,
    WindowEvent,
)

START = datetime(2026, 6, 8, 8, 15, tzinfo=UTC)
UP = TokenId("1111")
DOWN = TokenId("2222")
CONDITION = ConditionId("0x" + "ab" * 32)
WINDOW = WindowId("btc-updown-5m-1780906500")


def window(
    phase: WindowPhase = WindowPhase.OPEN,
    start: datetime = START,
    interval_s: int = 300,
    rule: str | None = "CHAINLINK_SPOT",
    window_id: str = WINDOW,
    up: str = UP,
    down: str = DOWN,
    at: datetime | None = None,
    asset: str = "btc",
) -> WindowEvent:
    ts = at or start - timedelta(seconds=30)
    return WindowEvent(
        source_ts=ts,
        recv_ts=ts,
        phase=phase,
        window_id=WindowId(window_id),
        asset=asset,
        interval_s=interval_s,
        condition_id=CONDITION,
        up_token_id=TokenId(up),
        down_token_id=TokenId(down),
        start_ts=start,
        end_ts=start + timedelta(seconds=interval_s),
        settlement_rule=rule,
    )


def book(token: str, at: datetime, bid: str | None, ask: str | None, size: str = "100") -> BookSnapshot:
    return BookSnapshot(
        source_ts=at,
        recv_ts=at,
        token_id=TokenId(token),
        condition_id=CONDITION,
        bids=(Level(price=Decimal(bid), size=Decimal(size)),) if bid else (),
        asks=(Level(price=Decimal(ask), size=Decimal(size)),) if ask else (),
    )


def oracle(
    at: datetime, price: str, symbol: str = "btc/usd", stream: OracleStream = OracleStream.CHAINLINK_SPOT
) -> OracleTick:
    return OracleTick(source_ts=at, recv_ts=at, symbol=symbol, stream=stream, price=Decimal(price))


def spot(at: datetime, price: str, symbol: str = "btcusdt") -> SpotTick:
    return SpotTick(source_ts=at, recv_ts=at, symbol=symbol, venue="binance", price=Decimal(price))


def control_rows(
    at: datetime,
    kill_switch: str = "RUN",
    mode: str = "DRY_RUN",
    max_position: str = "5",
    max_loss: str = "25",
    instruments: str = '["btc-5m", "eth-5m", "btc-1h"]',
    strategies: str = '["canary", "oracle_momentum"]',
) -> tuple[ControlChange, ...]:
    values = {
        ControlName.KILL_SWITCH: kill_switch,
        ControlName.TRADING_MODE: mode,
        ControlName.MAX_POSITION_USD: max_position,
        ControlName.MAX_SESSION_LOSS_USD: max_loss,
        ControlName.ALLOWED_INSTRUMENTS: instruments,
        ControlName.ALLOWED_STRATEGIES: strategies,
    }
    return tuple(ControlChange(name=n, value=v, updated_by="test", updated_at=at) for n, v in values.items())


def snapshot(at: datetime, **overrides: str) -> ControlsSnapshot:
    return ControlsSnapshot(rows=control_rows(at, **overrides), read_at=at)


def controls(at: datetime, **overrides: str) -> RuntimeControls:
    return apply_snapshot(None, snapshot(at, **overrides))
