"""Closed vocabularies shared by events, state machines and the database."""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class BookSide(StrEnum):
    BID = "BID"
    ASK = "ASK"


class Outcome(StrEnum):
    UP = "UP"
    DOWN = "DOWN"


class TradingMode(StrEnum):
    """One code path; the mode only picks the fill source."""

    LIVE = "LIVE"
    DRY_RUN = "DRY_RUN"
    PAPER = "PAPER"
    BACKTEST = "BACKTEST"


class KillSwitch(StrEnum):
    """RUN trades; PAUSE opens nothing new; FLATTEN exits everything; EMERGENCY also cancels all and stops."""

    RUN = "RUN"
    PAUSE = "PAUSE"
    FLATTEN = "FLATTEN"
    EMERGENCY = "EMERGENCY"


class OrderType(StrEnum):
    GTC = "GTC"
    GTD = "GTD"
    FOK = "FOK"
    FAK = "FAK"


class OrderStatus(StrEnum):
    """Our order states. UNKNOWN: submitted, outcome not known (no HTTP answer); never a rejection."""

    NEW = "NEW"
    SUBMITTED = "SUBMITTED"
    UNKNOWN = "UNKNOWN"
    LIVE = "LIVE"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


class TradeStatus(StrEnum):
    """Venue trade lifecycle; only CONFIRMED is final, FAILED means the fill did not happen."""

    MATCHED = "MATCHED"
    MINED = "MINED"
    RETRYING = "RETRYING"
    CONFIRMED = "CONFIRMED"
    FAILED = "FAILED"


TRADE_STATUS_RANK: dict[TradeStatus, int] = {
    TradeStatus.MATCHED: 0,
    TradeStatus.RETRYING: 1,
    TradeStatus.MINED: 2,
    TradeStatus.CONFIRMED: 3,
    TradeStatus.FAILED: 3,
}
"""How far along a trade is: a frame may only move a trade forward (frames arrive late and twice);
CONFIRMED and FAILED are both final."""


class PositionState(StrEnum):
    ENTRY = "ENTRY"
    MONITORING = "MONITORING"
    STOP_TRIGGERED = "STOP_TRIGGERED"
    TP_TRIGGERED = "TP_TRIGGERED"
    EXPIRY = "EXPIRY"
    EXIT_PENDING = "EXIT_PENDING"
    CLOSED = "CLOSED"


class ExitReason(StrEnum):
    """Why a position exits, in the exit decision's fixed priority order (core/exits.py)."""

    STOP_LOSS = "STOP_LOSS"
    TAKE_PROFIT = "TAKE_PROFIT"
    TRAILING_TAKE_PROFIT = "TRAILING_TAKE_PROFIT"
    EXPIRY = "EXPIRY"
    FLATTEN = "FLATTEN"
    """An operator's FLATTEN or EMERGENCY (core.kill_switch): not decided by `decide_exit`, which
    names only the four above."""


class WindowPhase(StrEnum):
    """A window's lifecycle; declaration order is the lifecycle order (WINDOW_PHASE_ORDER)."""

    DISCOVERED = "DISCOVERED"
    OPEN = "OPEN"
    CLOSED = "CLOSED"
    RESOLVED = "RESOLVED"


WINDOW_PHASE_ORDER: tuple[WindowPhase, ...] = tuple(WindowPhase)
"""The one definition of the phase order: discovery, the `windows` upsert (it passes this list to
SQL) and the migration's CHECK (tested against it) all derive from here. A window never moves back."""

_PHASE_RANK = {phase: rank for rank, phase in enumerate(WINDOW_PHASE_ORDER)}


def phase_rank(phase: WindowPhase) -> int:
    return _PHASE_RANK[phase]


def later_phase(held: WindowPhase, new: WindowPhase) -> WindowPhase:
    """The phase a window is in after `new` is reported while it was in `held` (never earlier)."""
    return new if phase_rank(new) > phase_rank(held) else held


class OracleStream(StrEnum):
    """Which Chainlink stream a tick belongs to (the settlement rule names one)."""

    CHAINLINK_SPOT = "CHAINLINK_SPOT"
    CHAINLINK_TWAP_30 = "CHAINLINK_TWAP_30"
    CHAINLINK_TWAP_60 = "CHAINLINK_TWAP_60"


class ControlName(StrEnum):
    """The six runtime controls (`runtime_controls` table, mirrored on `ctl.controls`)."""

    KILL_SWITCH = "kill_switch"
    TRADING_MODE = "trading_mode"
    MAX_POSITION_USD = "max_position_usd"
    MAX_SESSION_LOSS_USD = "max_session_loss_usd"
    ALLOWED_INSTRUMENTS = "allowed_instruments"
    ALLOWED_STRATEGIES = "allowed_strategies"


class BreakerState(StrEnum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"


class Severity(StrEnum):
    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"
