"""The canary campaign's checks (seed 1.3): one window's evidence in, one pass/fail per point out.

Each check is a pure function of a `WindowEvidence` (what our rows and the venue say about one
window) returning a `Check` with its evidence in words, so a failure names itself and shows why.
The chain is signal -> order -> fill -> position -> monitoring -> settlement -> resolution ->
venue_resolution -> pnl; `run_checks` adds the account-level ones (the balance change against our
P&L to the cent, the runtime assertions). Money is Decimal throughout; P&L compares to the cent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from core.strategy_review import Expectation, KillCriterion, Registration

__all__ = [
    "CANARY_CHECKS",
    "CANARY_PARAMS",
    "FAK_NO_MATCH",
    "RUN_CHECKS",
    "Check",
    "OrderEvidence",
    "PositionEvidence",
    "RunEvidence",
    "TradeEvidence",
    "WindowEvidence",
    "canary_registration",
    "cents",
    "killed_by_fak",
    "outcomes_seen",
    "run_checks",
    "venue_cash_usd",
    "window_checks",
]

_ZERO = Decimal(0)
_CENT = Decimal("0.01")
_DEAD_ORDER = frozenset({"REJECTED", "UNKNOWN", "NEW", "SUBMITTED"})


def cents(amount: Decimal) -> Decimal:
    """`amount` rounded to the cent (banker's rounding, as a ledger would)."""
    return amount.quantize(_CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True, slots=True)
class Check:
    """One point of the chain for one window (or the run, `window_id` None)."""

    name: str
    passed: bool
    evidence: str
    window_id: str | None = None


@dataclass(frozen=True, slots=True)
class OrderEvidence:
    client_order_id: str
    venue_order_id: str
    side: str
    status: str
    size_matched: Decimal


@dataclass(frozen=True, slots=True)
class TradeEvidence:
    """A trade of our account: `fee_usd` as booked (ours) or as the market's schedule charges it (the venue's)."""

    trade_id: str
    venue_order_id: str
    token_id: str
    side: str
    price: Decimal
    size: Decimal
    fee_usd: Decimal


@dataclass(frozen=True, slots=True)
class PositionEvidence:
    position_id: str
    token_id: str
    state: str
    size: Decimal
    entry_size: Decimal  # what the position's BUY orders filled (the row's `size` falls to 0 when it closes)
    realized_pnl_usd: Decimal
    held_to_resolution: bool
    hold_reason: str
    exit_reason: str | None


@dataclass(frozen=True, slots=True)
class WindowEvidence:
    """Everything a window's checks read, gathered by the campaign adapter from PostgreSQL and the venue."""

    window_id: str
    instrument: str
    up_token_id: str
    down_token_id: str
    signal_ids: tuple[str, ...]
    orders: tuple[OrderEvidence, ...]
    our_fills: tuple[TradeEvidence, ...]
    venue_trades: tuple[TradeEvidence, ...]
    positions: tuple[PositionEvidence, ...]
    our_outcome: str | None
    venue_outcome: str | None
    payout_usd: Decimal


@dataclass(frozen=True, slots=True)
class RunEvidence:
    """The account over the whole run: the venue's collateral before and after, our P&L, the assertions."""

    balance_before_usd: Decimal
    balance_after_usd: Decimal
    realized_pnl_usd: Decimal
    open_positions: int
    assertion_failures: tuple[str, ...]


def _signal(w: WindowEvidence) -> Check:
    if not w.signal_ids:
        return Check("signal", False, "no signal of the strategy for this window")
    return Check("signal", True, f"{len(w.signal_ids)} signal(s): {', '.join(w.signal_ids)}")


def _order(w: WindowEvidence) -> Check:
    entries = [o for o in w.orders if o.side == "BUY"]
    if not entries:
        return Check("order", False, "no entry order for the signal")
    dead = [o for o in entries if o.status in _DEAD_ORDER]
    if dead:
        return Check("order", False, "; ".join(f"{o.client_order_id} {o.status}" for o in dead))
    return Check(
        "order",
        True,
        "; ".join(f"{o.client_order_id} -> {o.venue_order_id[:12]} {o.status}" for o in entries),
    )


def _fill(w: WindowEvidence) -> Check:
    """Every trade the venue reports for our account on this window's tokens is in our fills, same size,
    and every fill of ours is one the venue reports."""
    ours = {f.trade_id: f for f in w.our_fills}
    venue = {t.trade_id: t for t in w.venue_trades}
    missing = sorted(set(venue) - set(ours))
    unknown = sorted(set(ours) - set(venue))
    differ = sorted(t for t in set(ours) & set(venue) if ours[t].size != venue[t].size)
    problems = [
        *(f"venue trade {t} ({venue[t].side} {venue[t].size}) not in our fills" for t in missing),
        *(f"our fill {t} unknown to the venue" for t in unknown),
        *(f"trade {t}: ours {ours[t].size}, venue {venue[t].size}" for t in differ),
    ]
    if problems:
        return Check("fill", False, "; ".join(problems))
    if not ours:
        return Check("fill", False, "no fill")
    size = sum((f.size for f in w.our_fills if f.side == "BUY"), _ZERO)
    return Check("fill", True, f"{len(ours)} trade(s) agree with the venue; bought {size}")


def _position(w: WindowEvidence) -> Check:
    """The positions hold what the fills bought: all of it while open, nothing once CLOSED."""
    bought = sum((f.size for f in w.our_fills if f.side == "BUY"), _ZERO)
    sold = sum((f.size for f in w.our_fills if f.side == "SELL"), _ZERO)
    if not w.positions:
        return Check("position", False, "no position row")
    entry = sum((p.entry_size for p in w.positions), _ZERO)
    held = sum((p.size for p in w.positions), _ZERO)
    closed = all(p.state == "CLOSED" for p in w.positions)
    expected_held = _ZERO if closed else bought - sold
    if entry != bought or held != expected_held:
        return Check(
            "position",
            False,
            f"positions entered {entry} and hold {held}; fills bought {bought}, sold {sold}",
        )
    return Check(
        "position", True, f"{len(w.positions)} position(s) entered {entry}, {sold} sold, hold {held}"
    )


def _monitoring(w: WindowEvidence) -> Check:
    """The executor watched the position to an exit decision: a trigger, or the window's end."""
    seen = [p for p in w.positions if p.exit_reason is not None or p.held_to_resolution]
    if len(seen) != len(w.positions) or not seen:
        return Check("monitoring", False, "a position never reached an exit decision")
    return Check(
        "monitoring",
        True,
        "; ".join(f"{p.position_id[:12]}: {p.exit_reason or 'EXPIRY'} {p.hold_reason}".strip() for p in seen),
    )


def _settlement(w: WindowEvidence) -> Check:
    open_ = [p for p in w.positions if p.state != "CLOSED"]
    if open_ or not w.positions:
        return Check(
            "settlement", False, "; ".join(f"{p.position_id[:12]} {p.state}" for p in open_) or "none"
        )
    return Check("settlement", True, f"{len(w.positions)} position(s) CLOSED, payout {w.payout_usd}")


def _resolution(w: WindowEvidence) -> Check:
    if w.our_outcome not in ("UP", "DOWN"):
        return Check("resolution", False, f"our outcome {w.our_outcome}")
    return Check("resolution", True, f"ours {w.our_outcome}")


def _venue_resolution(w: WindowEvidence) -> Check:
    if w.venue_outcome is None:
        return Check("venue_resolution", False, "the venue has not resolved the window")
    agrees = w.our_outcome == w.venue_outcome
    return Check("venue_resolution", agrees, f"ours {w.our_outcome}, Gamma {w.venue_outcome}")


def venue_cash_usd(trades: tuple[TradeEvidence, ...], payout_usd: Decimal) -> Decimal:
    """What the venue's trades (fees included) and the redemption moved in the account's collateral."""
    cash = payout_usd
    for t in trades:
        value = t.price * t.size
        cash += value - t.fee_usd if t.side == "SELL" else -(value + t.fee_usd)
    return cash


def _pnl(w: WindowEvidence) -> Check:
    """Our realized P&L against the collateral the venue's own trades and payout moved, to the cent."""
    ours = sum((p.realized_pnl_usd for p in w.positions), _ZERO)
    ordered = {o.venue_order_id for o in w.orders}
    venue = venue_cash_usd(tuple(t for t in w.venue_trades if t.venue_order_id in ordered), w.payout_usd)
    agrees = cents(ours) == cents(venue)
    return Check("pnl", agrees, f"ours {cents(ours)} USD, venue {cents(venue)} USD (fees included)")


_WINDOW_RULES: tuple[Callable[[WindowEvidence], Check], ...] = (
    _signal,
    _order,
    _fill,
    _position,
    _monitoring,
    _settlement,
    _resolution,
    _venue_resolution,
    _pnl,
)
CANARY_CHECKS = (
    "signal",
    "order",
    "fill",
    "position",
    "monitoring",
    "settlement",
    "resolution",
    "venue_resolution",
    "pnl",
)
RUN_CHECKS = ("balance", "assertions", "both_outcomes")


def window_checks(w: WindowEvidence) -> list[Check]:
    """Every point of the chain for one window, in order; a later point is still judged when an earlier
    one failed (each names its own evidence)."""
    out = []
    for rule in _WINDOW_RULES:
        found = rule(w)
        out.append(Check(found.name, found.passed, found.evidence, w.window_id))
    return out


def outcomes_seen(windows: list[WindowEvidence]) -> set[str]:
    """The venue's resolutions among the windows (the canary wants both UP and DOWN)."""
    return {w.venue_outcome for w in windows if w.venue_outcome is not None}


def run_checks(run: RunEvidence, windows: list[WindowEvidence]) -> list[Check]:
    """The account-level checks: the venue balance change equals our realized P&L to the cent (so
    nothing moved the collateral but our trades), no runtime assertion failed, both outcomes seen."""
    change = run.balance_after_usd - run.balance_before_usd
    balance = Check(
        "balance",
        cents(change) == cents(run.realized_pnl_usd) and run.open_positions == 0,
        f"venue balance {run.balance_before_usd} -> {run.balance_after_usd} ({cents(change)} USD),"
        f" our realized P&L {cents(run.realized_pnl_usd)} USD, {run.open_positions} position(s) still open",
    )
    assertions = Check(
        "assertions",
        not run.assertion_failures,
        "zero assertion failures" if not run.assertion_failures else "; ".join(run.assertion_failures[:5]),
    )
    seen = outcomes_seen(windows)
    both = Check(
        "both_outcomes", seen >= {"UP", "DOWN"}, f"resolutions seen: {', '.join(sorted(seen)) or 'none'}"
    )
    return [balance, assertions, both]


# The venue's answer to a FAK of which nothing crossed (POLYMARKET.md, order types).
FAK_NO_MATCH = "no orders found to match with FAK order"


def killed_by_fak(status: str, size_matched: Decimal, detail: str | None) -> bool:
    """An entry the venue killed whole under FAK: nothing crossed its limit by the time it arrived.
    The order path worked (signed, posted, the venue's answer recorded) and no money moved; a window
    with only such entries proves no fill, position or settlement, so a campaign lists it apart
    instead of judging it. Any other rejection is judged (and fails `order`)."""
    return status == "REJECTED" and size_matched == 0 and FAK_NO_MATCH in (detail or "")


# The canary as a campaign runs it: a limit two ticks above the ask it saw, so that a book moving
# between decision and order (five times faster at --speed 5) does not kill its FAK. A full run at
# the ask had 10 of 29 orders killed "no orders found to match", none of them a plumbing fault.
CANARY_PARAMS: dict[str, int] = {"slippage_ticks": 2}


def canary_registration(instruments: tuple[str, ...]) -> Registration:
    """The canary as a canary campaign registers it before its first trade (LIVE refuses a strategy
    with no registered expectation): $1 entries, any win rate is plausible over a few windows, and it
    is paused if it ever loses $10, which a $1-per-window canary cannot do unless something is wrong."""
    return Registration(
        strategy="canary",
        params=dict(CANARY_PARAMS),
        risk={"max_position_usd": Decimal(5)},
        instruments=instruments,
        expectation=Expectation(
            win_rate_low=Decimal(0),
            win_rate_high=Decimal(1),
            kill=KillCriterion(min_windows=1, max_loss_usd=Decimal(10)),
        ),
    )
