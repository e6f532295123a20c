"""Pre-trade risk: one pure function that approves a signal with its order, or names the rule
that refused it.

Rules, in order: controls present and fresh, market data not older than the controls by more than
the same limit (a lagging flow, or a backlog read after a start, must not trade on old news with
new controls), kill switch RUN, strategy and instrument allowed,
window open (not future, not closed), enough time left, at most two orders per window per
instrument (hard), a sane limit price, the venue's $1 marketable minimum, the position cap, and
the session-loss and daily-drawdown caps counting the new order's cost as money that may be lost.
The order is an IOC (FAK) at the signal's own `limit_price`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal

from core.controls import MAX_STALENESS, RuntimeControls
from core.enums import KillSwitch, OrderType, Side, TradingMode, WindowPhase
from core.models import Signal

__all__ = [
    "MAX_ORDERS_PER_WINDOW_INSTRUMENT",
    "MIN_MARKETABLE_USD",
    "Approved",
    "Exposure",
    "Rejected",
    "RiskLimits",
    "check_risk",
    "order_size",
]

MAX_ORDERS_PER_WINDOW_INSTRUMENT = 2
"""Hard: not a setting and not a control."""
MIN_MARKETABLE_USD = Decimal(1)
"""The venue refuses a marketable BUY under $1 (POLYMARKET.md §6.3)."""
_SHARES = Decimal("0.01")


def order_size(notional_usd: Decimal, price: Decimal) -> Decimal:
    """Shares for `notional_usd` at `price`, rounded up to the venue's 2 size decimals, so the
    order's cost is never under the notional asked (and the $1 minimum holds), then up to the
    smallest size the venue accepts for a marketable BUY at that price (its cost on whole cents:
    `core.order_amounts.marketable_size`), so the FAK is never refused for its amounts' precision.
    The tick is the one the price's own decimals imply (0.999 trades on 0.001)."""
    from core.order_amounts import marketable_size  # here: order_amounts imports this module's $1 minimum

    shares = (notional_usd / price).quantize(_SHARES, rounding=ROUND_CEILING)
    exponent = price.normalize().as_tuple().exponent
    decimals = max(2, -exponent) if isinstance(exponent, int) else 0
    if not 2 <= decimals <= 4:  # not a venue price: refused further on (bad_limit_price or the fill)
        return shares
    return marketable_size(Side.BUY, shares, price, Decimal(1).scaleb(-decimals))


@dataclass(frozen=True, slots=True)
class Exposure:
    """What risk needs to know about the window and our money, as of the decision.

    `orders_in_window` counts every order of ours in this window (both tokens: a window is one
    instrument); `position_usd` is the cost of our orders on the signal's token; P&L figures are
    signed (a loss is negative).
    """

    instrument: str
    window_start: datetime
    window_end: datetime
    window_phase: WindowPhase
    orders_in_window: int
    position_usd: Decimal
    session_pnl_usd: Decimal
    day_pnl_usd: Decimal


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """Limits from settings (the runtime ones are controls)."""

    min_time_left: timedelta = timedelta(seconds=10)
    max_daily_drawdown_usd: Decimal = Decimal(50)
    max_staleness: timedelta = MAX_STALENESS


@dataclass(frozen=True, slots=True)
class Approved:
    """The order risk allows: an IOC (FAK) BUY at the signal's limit price."""

    size: Decimal
    cost_usd: Decimal
    limit_price: Decimal
    order_type: OrderType
    mode: TradingMode
    controls_version: int

    def describe(self) -> str:
        return f"APPROVED {self.order_type.value} {self.size} @ {self.limit_price} (${self.cost_usd})"


@dataclass(frozen=True, slots=True)
class Rejected:
    rule: str
    detail: str

    def describe(self) -> str:
        return f"REJECTED {self.rule}: {self.detail}"


def check_risk(
    signal: Signal,
    controls: RuntimeControls | None,
    exposure: Exposure,
    now: datetime,
    limits: RiskLimits = RiskLimits(),
) -> Approved | Rejected:
    """Approve `signal` as an order or name the first rule it breaks. `now` is the event time."""
    if controls is None:
        return Rejected("no_controls", "runtime_controls not read yet")
    age = now - controls.as_of
    if age > limits.max_staleness:
        return Rejected("controls_stale", f"controls {age.total_seconds()} s old")
    if -age > limits.max_staleness:
        return Rejected("data_stale", f"market data {(-age).total_seconds()} s older than the controls")
    if controls.kill_switch is not KillSwitch.RUN:
        return Rejected("kill_switch", controls.kill_switch.value)
    if signal.strategy not in controls.allowed_strategies:
        return Rejected("strategy_not_allowed", signal.strategy)
    if exposure.instrument not in controls.allowed_instruments:
        return Rejected("instrument_not_allowed", exposure.instrument)
    if now < exposure.window_start:
        return Rejected("window_not_open", f"opens {exposure.window_start.isoformat()}")
    if now >= exposure.window_end or exposure.window_phase in (WindowPhase.CLOSED, WindowPhase.RESOLVED):
        return Rejected("window_closed", exposure.window_phase.value)
    left = exposure.window_end - now
    if left < limits.min_time_left:
        return Rejected("too_little_time", f"{left.total_seconds()} s left")
    if exposure.orders_in_window >= MAX_ORDERS_PER_WINDOW_INSTRUMENT:
        return Rejected("max_orders_per_window", f"{exposure.orders_in_window} orders already")
    if signal.side is not Side.BUY:
        return Rejected("unsupported_side", signal.side.value)
    price = signal.limit_price
    if not Decimal(0) < price < Decimal(1):
        return Rejected("bad_limit_price", str(price))
    size = order_size(signal.notional_usd, price)
    cost = size * price
    if cost < MIN_MARKETABLE_USD:
        return Rejected("below_venue_minimum", f"${cost} < ${MIN_MARKETABLE_USD}")
    if exposure.position_usd + cost > controls.max_position_usd:
        return Rejected(
            "max_position_usd", f"${exposure.position_usd} + ${cost} > ${controls.max_position_usd}"
        )
    if -exposure.session_pnl_usd + cost > controls.max_session_loss_usd:
        return Rejected(
            "max_session_loss",
            f"loss ${-exposure.session_pnl_usd} + ${cost} at risk > ${controls.max_session_loss_usd}",
        )
    if -exposure.day_pnl_usd + cost > limits.max_daily_drawdown_usd:
        return Rejected(
            "max_daily_drawdown",
            f"loss ${-exposure.day_pnl_usd} + ${cost} at risk > ${limits.max_daily_drawdown_usd}",
        )
    return Approved(size, cost, price, OrderType.FAK, controls.trading_mode, controls.version)
