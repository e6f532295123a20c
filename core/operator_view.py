"""What the dashboard shows that is computed, not read: feed-age colours, the operator's mode line and
the session drawdown. Pure functions, so the dashboard stays a view and these are unit-tested."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import StrEnum

from core.exits import ExitConfig, stop_price

__all__ = [
    "FEED_GREEN_BELOW_MS",
    "FEED_YELLOW_BELOW_MS",
    "FeedColour",
    "drawdown",
    "feed_colour",
    "operator_mode",
    "position_mark",
    "position_outcome",
]

_DEFAULT_EXITS = ExitConfig()  # the executor's defaults (execution.exits.ExitManager)
FEED_GREEN_BELOW_MS = Decimal(2000)
FEED_YELLOW_BELOW_MS = Decimal(5000)


class FeedColour(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


def feed_colour(last_tick_age_ms: Decimal | None) -> FeedColour:
    """Green under 2 s since the feed's last tick, yellow under 5 s, red beyond; a feed that has never
    ticked (None) is red."""
    if last_tick_age_ms is None:
        return FeedColour.RED
    if last_tick_age_ms < FEED_GREEN_BELOW_MS:
        return FeedColour.GREEN
    if last_tick_age_ms < FEED_YELLOW_BELOW_MS:
        return FeedColour.YELLOW
    return FeedColour.RED


def operator_mode(controls: Mapping[str, str]) -> str:
    """LIVE, PAPER, DRY_RUN or BACKTEST from the trading_mode control; STOPPED when the kill switch is
    EMERGENCY or the controls cannot be read (no trading_mode row). PAUSE and FLATTEN keep the mode:
    exits still run in it, and the kill switch is shown beside it."""
    mode = controls.get("trading_mode")
    if mode is None or controls.get("kill_switch") == "EMERGENCY":
        return "STOPPED"
    return mode


def drawdown(pnl_steps: Iterable[Decimal]) -> list[Decimal]:
    """For each step of realised P&L in time order, how far the running total sits below its best so far
    (0 or negative). The session starts at 0, so a first loss is already a drawdown."""
    total = Decimal(0)
    peak = Decimal(0)
    out: list[Decimal] = []
    for step in pnl_steps:
        total += step
        peak = max(peak, total)
        out.append(total - peak)
    return out


def position_outcome(state: str, realized_pnl_usd: Decimal) -> str:
    """How a position ended, for the trade history's outcome filter: "open" until CLOSED, then "won",
    "lost" or "even" by its realised P&L."""
    if state != "CLOSED":
        return "open"
    if realized_pnl_usd > 0:
        return "won"
    if realized_pnl_usd < 0:
        return "lost"
    return "even"


def position_mark(
    size: Decimal, cost_usd: Decimal, best_bid: Decimal | None, config: ExitConfig = _DEFAULT_EXITS
) -> dict[str, Decimal | None]:
    """An open position's current price (the best bid: what selling would get), unrealised P&L at
    it, and the stop-loss level (`core.exits.stop_price`, the exit decision's own threshold)."""
    return {
        "current": best_bid,
        "unrealised_pnl_usd": None if best_bid is None else best_bid * size - cost_usd,
        "stop_level": stop_price(cost_usd, size, config),
    }
