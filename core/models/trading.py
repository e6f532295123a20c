"""Trading events: `ctl.controls`, `trade.signals`, `trade.intents`, `trade.rejections`,
`trade.executions`, `trade.positions`."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from core.enums import (
    ControlName,
    OrderStatus,
    OrderType,
    Outcome,
    PositionState,
    Side,
    TradeStatus,
    TradingMode,
)
from core.ids import ClientOrderId, TokenId, TradeId, VenueOrderId, WindowId
from core.models.base import Event, MarketEvent
from core.models.market import Level
from core.money import OraclePrice, PositiveUsd, Price, Size, Usd
from core.timestamps import UtcDatetime


class ControlChange(Event):
    """A runtime control written to `runtime_controls`; `value` in its canonical text form."""

    kind: Literal["control"] = "control"
    name: ControlName
    value: str
    updated_by: str = Field(min_length=1)
    updated_at: UtcDatetime
    reason: str = ""


class ControlsSnapshot(Event):
    """Every row of `runtime_controls` as read at `read_at`: the truth after a restart, and the
    proof that the controls a decision used are no older than the last read."""

    kind: Literal["controls_snapshot"] = "controls_snapshot"
    rows: tuple[ControlChange, ...]
    read_at: UtcDatetime


class Signal(Event):
    """A strategy's wish, before risk: which side of which window, at what price, and why."""

    kind: Literal["signal"] = "signal"
    signal_id: str = Field(min_length=1)
    window_id: WindowId
    strategy: str = Field(min_length=1)
    token_id: TokenId
    outcome: Outcome
    side: Side
    limit_price: Price
    notional_usd: PositiveUsd
    event_ts: UtcDatetime
    reason: str = ""


class DecisionContext(Event):
    """What a decision saw, for the audit trail: both books' top levels, the reference (oracle or
    spot) price against the strike, the risk result and the controls version it was checked under."""

    kind: Literal["decision_context"] = "decision_context"
    up_bids: tuple[Level, ...] = ()
    up_asks: tuple[Level, ...] = ()
    down_bids: tuple[Level, ...] = ()
    down_asks: tuple[Level, ...] = ()
    reference_price: OraclePrice | None = None
    strike: OraclePrice | None = None
    signal: Signal
    risk_result: str = Field(min_length=1)
    controls_version: int
    event_ts: UtcDatetime


class OrderIntent(Event):
    """A signal approved by risk, sized in shares; `client_order_id` is fixed before the venue sees it."""

    kind: Literal["intent"] = "intent"
    client_order_id: ClientOrderId
    signal_id: str = Field(min_length=1)
    window_id: WindowId
    strategy: str = Field(min_length=1)
    token_id: TokenId
    side: Side
    order_type: OrderType
    limit_price: Price
    size: Size
    mode: TradingMode
    event_ts: UtcDatetime
    position_id: str | None = None
    context: DecisionContext | None = None


class IntentRejected(Event):
    """A signal risk refused, with the rule that refused it."""

    kind: Literal["rejection"] = "rejection"
    signal_id: str = Field(min_length=1)
    window_id: WindowId
    strategy: str
    rule: str = Field(min_length=1)
    detail: str
    event_ts: UtcDatetime
    controls_version: int | None = None


class OrderUpdate(Event):
    """Our order changed state. `venue_order_id` is known from the signed payload even when UNKNOWN."""

    kind: Literal["order"] = "order"
    client_order_id: ClientOrderId
    venue_order_id: VenueOrderId | None
    window_id: WindowId
    token_id: TokenId
    mode: TradingMode
    status: OrderStatus
    side: Side
    price: Price
    size: Size
    size_matched: Size = Decimal(0)
    event_ts: UtcDatetime
    detail: str = ""


class Fill(MarketEvent):
    """One trade of ours; `source_id` is the venue trade id; only CONFIRMED is final."""

    kind: Literal["fill"] = "fill"
    trade_id: TradeId
    venue_order_id: VenueOrderId
    client_order_id: ClientOrderId | None
    window_id: WindowId | None
    token_id: TokenId
    mode: TradingMode
    side: Side
    price: Price
    size: Size
    fee_usd: PositiveUsd
    status: TradeStatus
    is_maker: bool


ExecutionEvent = Annotated[OrderUpdate | Fill, Field(discriminator="kind")]


class PositionUpdate(Event):
    """A position's state after a change; one stream for all modes, `run_id` for backtests."""

    kind: Literal["position"] = "position"
    position_id: str = Field(min_length=1)
    window_id: WindowId
    token_id: TokenId
    mode: TradingMode
    run_id: str | None = None
    strategy: str
    state: PositionState
    size: Size
    avg_entry_price: Price | None
    cost_usd: PositiveUsd
    realized_pnl_usd: Usd
    event_ts: UtcDatetime
