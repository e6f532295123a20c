"""Versioned pydantic models for every topic value (DESIGN.md "Topics")."""

from core.models.base import Event, MarketEvent
from core.models.market import (
    BestBidAsk,
    BookDelta,
    BookEvent,
    BookSnapshot,
    LastTrade,
    Level,
    LevelChange,
    OracleTick,
    SpotTick,
    TickSizeChange,
    WindowEvent,
)
from core.models.ops import Alert, AssertionEvent, AssertionResult, BreakerChange, Quarantined
from core.models.trading import (
    ControlChange,
    ExecutionEvent,
    Fill,
    IntentRejected,
    OrderIntent,
    OrderUpdate,
    PositionUpdate,
    Signal,
)

__all__ = [
    "Alert",
    "AssertionEvent",
    "AssertionResult",
    "BestBidAsk",
    "BookDelta",
    "BookEvent",
    "BookSnapshot",
    "BreakerChange",
    "ControlChange",
    "Event",
    "ExecutionEvent",
    "Fill",
    "IntentRejected",
    "LastTrade",
    "Level",
    "LevelChange",
    "MarketEvent",
    "OracleTick",
    "OrderIntent",
    "OrderUpdate",
    "PositionUpdate",
    "Quarantined",
    "Signal",
    "SpotTick",
    "TickSizeChange",
    "WindowEvent",
]
