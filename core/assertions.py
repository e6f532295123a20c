"""The ten runtime assertions run every tick (DESIGN.md "Safety", seed 1.2).

Each is a pure, named function of plain values (what the executor and the venue report, passed
in) and returns a `Check`: its name, whether it held, and the evidence an operator needs to see
why not. `run_all(snapshot)` runs all ten in the fixed order of `ASSERTION_NAMES`; any failure
opens the circuit breaker (core.breaker). Money is Decimal; `now` is an argument.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from core.enums import OrderStatus, TradeStatus
from core.universe import ASSETS, INTERVALS_S
from core.window_state import instrument_of

__all__ = [
    "ASSERTION_NAMES",
    "DEFAULT_BALANCE_TOLERANCE_USD",
    "DEFAULT_FILL_CONFIRM_WITHIN",
    "DEFAULT_HEARTBEAT_WITHIN",
    "DEFAULT_PNL_TOLERANCE_USD",
    "Check",
    "FillView",
    "OrderView",
    "TickSnapshot",
    "balance_match",
    "capital_cap",
    "executor_heartbeat",
    "fill_confirmation",
    "instrument_scope",
    "no_future_windows",
    "no_null_order_ids",
    "pnl_match",
    "position_count",
    "replay_scope",
    "run_all",
    "signal_order_mapping",
]

ASSERTION_NAMES: tuple[str, ...] = (
    "signal_order_mapping",
    "fill_confirmation",
    "position_count",
    "pnl_match",
    "no_null_order_ids",
    "instrument_scope",
    "no_future_windows",
    "capital_cap",
    "executor_heartbeat",
    "balance_match",
)

DEFAULT_FILL_CONFIRM_WITHIN = timedelta(minutes=2)
DEFAULT_HEARTBEAT_WITHIN = timedelta(seconds=15)
DEFAULT_PNL_TOLERANCE_USD = Decimal("0.01")
DEFAULT_BALANCE_TOLERANCE_USD = Decimal("0.01")

_MAX_LISTED = 5  # evidence names at most this many items, then counts the rest
_NOT_SENT = frozenset({OrderStatus.NEW, OrderStatus.REJECTED})
_FINAL_TRADE = frozenset({TradeStatus.CONFIRMED, TradeStatus.FAILED})


@dataclass(frozen=True, slots=True)
class Check:
    """One assertion's result: `evidence` says what was compared (always, pass or fail)."""

    name: str
    passed: bool
    evidence: str


@dataclass(frozen=True, slots=True)
class OrderView:
    """What the assertions need of one of our orders."""

    client_order_id: str
    venue_order_id: str | None
    status: OrderStatus
    instrument: str
    window_id: str
    window_start: datetime


@dataclass(frozen=True, slots=True)
class FillView:
    trade_id: str
    status: TradeStatus
    matched_at: datetime


def _listed(items: Iterable[str]) -> str:
    shown = sorted(items)
    more = len(shown) - _MAX_LISTED
    return ", ".join(shown[:_MAX_LISTED]) + (f" (+{more} more)" if more > 0 else "")


def signal_order_mapping(intent_order_ids: Collection[str], orders: Sequence[OrderView]) -> Check:
    """Every order comes from an approved intent, and no intent has two orders."""
    ids = Counter(o.client_order_id for o in orders)
    orphans = [i for i in ids if i not in intent_order_ids]
    twice = [i for i, n in ids.items() if n > 1]
    problems = []
    if orphans:
        problems.append(f"orders without an intent: {_listed(orphans)}")
    if twice:
        problems.append(f"intents with more than one order: {_listed(twice)}")
    ok = f"{len(ids)} order(s), each from one of {len(intent_order_ids)} intent(s)"
    return Check("signal_order_mapping", not problems, "; ".join(problems) or ok)


def fill_confirmation(fills: Sequence[FillView], now: datetime, within: timedelta) -> Check:
    """Every fill reaches CONFIRMED (or FAILED) within `within` of its match."""
    stuck = [
        f"{f.trade_id} {f.status.value} since {f.matched_at.isoformat()}"
        for f in fills
        if f.status not in _FINAL_TRADE and now - f.matched_at > within
    ]
    if stuck:
        return Check("fill_confirmation", False, f"unconfirmed after {within}: {_listed(stuck)}")
    return Check("fill_confirmation", True, f"{len(fills)} fill(s), none unconfirmed past {within}")


def _open(positions: Mapping[str, Decimal]) -> dict[str, Decimal]:
    return {token: size for token, size in positions.items() if size != 0}


def position_count(ours: Mapping[str, Decimal], venue: Mapping[str, Decimal]) -> Check:
    """Our open positions (token -> shares) are the venue's: the same tokens, the same sizes."""
    mine, theirs = _open(ours), _open(venue)
    differ = [
        f"{t}: ours {mine.get(t, Decimal(0))} venue {theirs.get(t, Decimal(0))}"
        for t in set(mine) | set(theirs)
        if mine.get(t, Decimal(0)) != theirs.get(t, Decimal(0))
    ]
    counts = f"ours {len(mine)} open, venue {len(theirs)} open"
    if differ:
        return Check("position_count", False, f"{counts}; {_listed(differ)}")
    return Check("position_count", True, counts)


def pnl_match(ours_usd: Decimal, recomputed_usd: Decimal, tolerance_usd: Decimal) -> Check:
    """Our running P&L equals the P&L recomputed from the fills, within `tolerance_usd`."""
    gap = abs(ours_usd - recomputed_usd)
    evidence = f"ours {ours_usd} recomputed {recomputed_usd} (difference {gap}, tolerance {tolerance_usd})"
    return Check("pnl_match", gap <= tolerance_usd, evidence)


def no_null_order_ids(orders: Sequence[OrderView]) -> Check:
    """Every order that left us (anything but NEW or REJECTED) has its venue order id."""
    missing = [
        f"{o.client_order_id} {o.status.value}"
        for o in orders
        if o.status not in _NOT_SENT and not o.venue_order_id
    ]
    if missing:
        return Check("no_null_order_ids", False, f"sent without a venue order id: {_listed(missing)}")
    return Check("no_null_order_ids", True, f"{len(orders)} order(s), every sent one with its venue id")


def instrument_scope(orders: Sequence[OrderView], allowed: frozenset[str]) -> Check:
    """Every order is on an allowed instrument (the `allowed_instruments` control)."""
    outside = {o.instrument for o in orders if o.instrument not in allowed}
    if outside:
        return Check(
            "instrument_scope", False, f"orders on {_listed(outside)}; allowed: {_listed(allowed) or 'none'}"
        )
    return Check("instrument_scope", True, f"{len(orders)} order(s) within {len(allowed)} allowed")


def no_future_windows(orders: Sequence[OrderView], now: datetime) -> Check:
    """No order is on a window that has not started yet."""
    early = {f"{o.window_id} starts {o.window_start.isoformat()}" for o in orders if o.window_start > now}
    if early:
        return Check(
            "no_future_windows", False, f"orders before their window at {now.isoformat()}: {_listed(early)}"
        )
    return Check("no_future_windows", True, f"{len(orders)} order(s), all on started windows")


def capital_cap(position_costs_usd: Mapping[str, Decimal], max_position_usd: Decimal) -> Check:
    """No position has cost more than the per-position cap (`max_position_usd`)."""
    over = [f"{p} ${c}" for p, c in position_costs_usd.items() if c > max_position_usd]
    if over:
        return Check("capital_cap", False, f"over ${max_position_usd}: {_listed(over)}")
    return Check("capital_cap", True, f"{len(position_costs_usd)} position(s) within ${max_position_usd}")


def executor_heartbeat(last_beat: datetime | None, now: datetime, within: timedelta) -> Check:
    """The executor beat within `within` of now."""
    if last_beat is None:
        return Check("executor_heartbeat", False, "the executor has never beaten")
    silence = now - last_beat
    evidence = f"last beat {last_beat.isoformat()}, {silence.total_seconds():g} s ago (limit {within})"
    return Check("executor_heartbeat", silence <= within, evidence)


def balance_match(ours_usd: Decimal, venue_usd: Decimal, tolerance_usd: Decimal) -> Check:
    """Our collateral balance is the venue's, within `tolerance_usd`."""
    gap = abs(ours_usd - venue_usd)
    evidence = f"ours {ours_usd} venue {venue_usd} (difference {gap}, tolerance {tolerance_usd})"
    return Check("balance_match", gap <= tolerance_usd, evidence)


@dataclass(frozen=True, slots=True)
class TickSnapshot:
    """Everything the ten assertions read at one tick, as the executor and the venue report it.

    `intent_order_ids`: client order ids of the approved intents; `our_positions` / `venue_positions`:
    token -> shares; `position_costs`: position id -> cost of the open positions."""

    at: datetime
    intent_order_ids: frozenset[str]
    orders: tuple[OrderView, ...]
    fills: tuple[FillView, ...]
    our_positions: Mapping[str, Decimal]
    venue_positions: Mapping[str, Decimal]
    position_costs: Mapping[str, Decimal]
    our_pnl_usd: Decimal
    recomputed_pnl_usd: Decimal
    allowed_instruments: frozenset[str]
    max_position_usd: Decimal
    executor_heartbeat_at: datetime | None
    our_balance_usd: Decimal
    venue_balance_usd: Decimal
    fill_confirm_within: timedelta = DEFAULT_FILL_CONFIRM_WITHIN
    heartbeat_within: timedelta = DEFAULT_HEARTBEAT_WITHIN
    pnl_tolerance_usd: Decimal = DEFAULT_PNL_TOLERANCE_USD
    balance_tolerance_usd: Decimal = DEFAULT_BALANCE_TOLERANCE_USD


def run_all(s: TickSnapshot) -> list[Check]:
    """All ten assertions on one snapshot, in the order of `ASSERTION_NAMES`."""
    return [
        signal_order_mapping(s.intent_order_ids, s.orders),
        fill_confirmation(s.fills, s.at, s.fill_confirm_within),
        position_count(s.our_positions, s.venue_positions),
        pnl_match(s.our_pnl_usd, s.recomputed_pnl_usd, s.pnl_tolerance_usd),
        no_null_order_ids(s.orders),
        instrument_scope(s.orders, s.allowed_instruments),
        no_future_windows(s.orders, s.at),
        capital_cap(s.position_costs, s.max_position_usd),
        executor_heartbeat(s.executor_heartbeat_at, s.at, s.heartbeat_within),
        balance_match(s.our_balance_usd, s.venue_balance_usd, s.balance_tolerance_usd),
    ]


def replay_scope(snapshot: TickSnapshot, instruments: frozenset[str] | None = None) -> TickSnapshot:
    """A backtest's snapshot: `instrument_scope` is judged against the replay's instruments (a replay
    trades on fixed RUN controls that allow every instrument unless told otherwise), never against
    the live `allowed_instruments` control an operator set for live trading."""
    every = frozenset(instrument_of(a, i) for a in ASSETS for i in INTERVALS_S)
    return replace(snapshot, allowed_instruments=every if instruments is None else instruments)
