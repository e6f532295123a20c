"""Our records against the venue's (seed 0.4): at start-up and after any user-channel gap.

`compare(records, venue)` sorts every difference into one of three:
- a **repair**: the venue knows more about one of *our unsettled* orders than we do, which is what a
  gap or a crash leaves behind: a trade of ours we never recorded (`missing_fills`), an order whose
  matched size or resting state moved (`settles`), an UNKNOWN or SUBMITTED order the venue never
  got (`not_at_venue`). Each such order is one `OrderRepair`: the `core.orders` events the venue's
  answer proves and every venue trade of the order (the order's rows are rebuilt from all of them,
  so applying a repair twice changes nothing). The executor applies them; nothing is guessed.
- a **mismatch**: something our records cannot explain, so trading must stop until an operator
  looks: an open order at the venue we did not place, a trade on an order not ours, a fill of ours
  the venue does not know, an order we believe rests that the venue does not have, a token balance
  that disagrees with our positions (after the repairs), a collateral balance other than expected
  (changed from outside; checked once no trade repair is pending), a token id the venue does not know or lists under another market,
  a trade we lack (or one the chain reversed) on an order our rows hold as settled: its position may
  have moved on since (exited, closed), so rebuilding it from the venue's trades is not safe. A
  venue-side position we do not know is never invented: it stays a `position` mismatch.
A mismatch opens the circuit breaker (the adapter does that). Pure: both sides are arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from core.enums import OrderStatus, Side
from core.orders import NotAtVenue, OrderEvent, TradeFailed, VenueView

__all__ = [
    "Mismatch",
    "OrderRepair",
    "OurFill",
    "OurOrder",
    "Reconciliation",
    "Records",
    "VenueOrder",
    "VenueState",
    "VenueTrade",
    "compare",
]

_ZERO = Decimal(0)
_RESTING = frozenset({OrderStatus.LIVE, OrderStatus.PARTIALLY_FILLED})
_UNSURE = frozenset({OrderStatus.UNKNOWN, OrderStatus.SUBMITTED})
_VENUE_RESTING = frozenset({"LIVE", "DELAYED"})


@dataclass(frozen=True, slots=True)
class OurOrder:
    """One of our orders the venue may still hold (LIVE, PARTIALLY_FILLED, SUBMITTED, UNKNOWN)."""

    venue_order_id: str
    token_id: str
    side: Side
    size: Decimal
    size_matched: Decimal
    status: OrderStatus
    client_order_id: str = ""


@dataclass(frozen=True, slots=True)
class OurFill:
    trade_id: str
    venue_order_id: str
    token_id: str
    side: Side
    size: Decimal


@dataclass(frozen=True, slots=True)
class Records:
    """What PostgreSQL says. `positions`: shares held per token over open positions; `tokens`: the
    condition id our windows give each token we hold or trade; `expected_collateral`: None when
    there is nothing to compare to yet (the first start)."""

    orders: tuple[OurOrder, ...]
    fills: tuple[OurFill, ...]
    positions: Mapping[str, Decimal]
    tokens: Mapping[str, str]
    expected_collateral: Decimal | None
    known_order_ids: frozenset[str] = field(default_factory=frozenset)
    """Every venue order id of ours in any state (settled ones too), beyond `orders` and `fills`."""


@dataclass(frozen=True, slots=True)
class VenueOrder:
    venue_order_id: str
    token_id: str
    side: Side
    size: Decimal
    size_matched: Decimal
    status: str  # the venue's word, prefix-normalised: LIVE, MATCHED, CANCELED, ...

    @property
    def resting(self) -> bool:
        return self.status in _VENUE_RESTING


@dataclass(frozen=True, slots=True)
class VenueTrade:
    """Our side of one venue trade (taker or maker leg)."""

    trade_id: str
    venue_order_id: str
    token_id: str
    side: Side
    size: Decimal
    status: str
    price: Decimal = _ZERO
    maker: bool = False

    @property
    def failed(self) -> bool:
        return self.status == "FAILED"


@dataclass(frozen=True, slots=True)
class VenueState:
    """What the venue says. `our_orders`: its view of each of our unsettled orders (absent: it has
    no such order); `token_markets`: the market it lists each of our tokens under (absent: unknown)."""

    open_orders: tuple[VenueOrder, ...]
    our_orders: Mapping[str, VenueOrder]
    trades: tuple[VenueTrade, ...]
    token_balances: Mapping[str, Decimal]
    token_markets: Mapping[str, str]
    collateral: Decimal


@dataclass(frozen=True, slots=True)
class Mismatch:
    kind: str
    subject: str
    detail: str


@dataclass(frozen=True, slots=True)
class OrderRepair:
    """One unsettled order of ours settled from the venue's answer: the events to apply through
    `core.orders` (the venue's view, then each trade the chain reversed; or `NotAtVenue`) and every
    venue trade of the order, from which its fills and position are written again."""

    venue_order_id: str
    client_order_id: str
    events: tuple[OrderEvent, ...]
    trades: tuple[VenueTrade, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class Reconciliation:
    mismatches: tuple[Mismatch, ...] = ()
    missing_fills: tuple[VenueTrade, ...] = ()
    settles: tuple[VenueOrder, ...] = ()
    not_at_venue: tuple[str, ...] = ()
    repairs: tuple[OrderRepair, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.mismatches

    @property
    def recheck(self) -> bool:
        """Repairs of trades are due: apply them, then reconcile again (the collateral check waits
        for them, as their cash is not in our records yet)."""
        return bool(self.missing_fills)

    @property
    def cause(self) -> str:
        """One line naming every mismatch (the breaker's cause)."""
        return "reconciliation: " + "; ".join(f"{m.kind} {m.subject}: {m.detail}" for m in self.mismatches)


def _delta(trade: VenueTrade) -> Decimal:
    return trade.size if trade.side is Side.BUY else -trade.size


def _orders(
    records: Records, venue: VenueState, known: frozenset[str]
) -> tuple[list[Mismatch], list[VenueOrder], list[str]]:
    mismatches = [
        Mismatch(
            "venue_order_not_ours",
            o.venue_order_id,
            f"{o.side.value} {o.size} of {o.token_id} rests at the venue",
        )
        for o in venue.open_orders
        if o.venue_order_id not in known
    ]
    settles: list[VenueOrder] = []
    absent: list[str] = []
    for ours in records.orders:
        view = venue.our_orders.get(ours.venue_order_id)
        if view is None:
            if ours.status in _UNSURE:
                absent.append(ours.venue_order_id)
            else:
                detail = f"we hold it {ours.status.value}, the venue has no such order"
                mismatches.append(Mismatch("order_missing_at_venue", ours.venue_order_id, detail))
        elif (
            ours.status in _UNSURE
            or view.size_matched != ours.size_matched
            or view.resting != (ours.status in _RESTING)
        ):
            settles.append(view)
    return mismatches, settles, absent


def _repairs(
    records: Records,
    venue: VenueState,
    settles: list[VenueOrder],
    absent: list[str],
    missing: list[VenueTrade],
) -> tuple[OrderRepair, ...]:
    """One repair per unsettled order of ours the venue knows more about (or does not have)."""
    moved = {v.venue_order_id for v in settles} | {t.venue_order_id for t in missing}
    out: list[OrderRepair] = []
    for ours in records.orders:
        vid = ours.venue_order_id
        if vid in absent:
            out.append(OrderRepair(vid, ours.client_order_id, (NotAtVenue(),), (), "not_at_venue"))
            continue
        view = venue.our_orders.get(vid)
        if view is None or vid not in moved:
            continue
        trades = tuple(t for t in venue.trades if t.venue_order_id == vid)
        seen = VenueView(view.size_matched, view.resting, expired=view.status.startswith("EXPIRED"))
        failed = tuple(TradeFailed(t.trade_id, t.size) for t in trades if t.failed)
        reason = "trades_missing" if any(t.venue_order_id == vid for t in missing) else "order_moved"
        out.append(OrderRepair(vid, ours.client_order_id, (seen, *failed), trades, reason))
    return tuple(out)


def compare(records: Records, venue: VenueState) -> Reconciliation:
    """Every difference between `records` and `venue`, as repairs and mismatches."""
    ours_fills = {f.trade_id: f for f in records.fills}
    known = (
        records.known_order_ids
        | {o.venue_order_id for o in records.orders}
        | {f.venue_order_id for f in records.fills}
    )
    mismatches, settles, absent = _orders(records, venue, known)
    unsettled = {o.venue_order_id for o in records.orders}
    missing: list[VenueTrade] = []
    expected = {token: size for token, size in records.positions.items()}
    venue_ids = {t.trade_id for t in venue.trades}
    for trade in venue.trades:
        if trade.trade_id in ours_fills:
            if trade.failed:  # we booked a fill the chain then reversed
                expected[trade.token_id] = expected.get(trade.token_id, _ZERO) - _delta(trade)
                if trade.venue_order_id in unsettled:
                    missing.append(trade)
                else:
                    detail = f"{trade.side.value} {trade.size} of {trade.token_id} on settled order {trade.venue_order_id}"
                    mismatches.append(Mismatch("trade_reversed", trade.trade_id, detail))
        elif trade.failed:
            continue
        elif trade.venue_order_id in known:
            expected[trade.token_id] = expected.get(trade.token_id, _ZERO) + _delta(trade)
            if trade.venue_order_id in unsettled:
                missing.append(trade)
            else:
                detail = f"{trade.side.value} {trade.size} of {trade.token_id} on settled order {trade.venue_order_id}"
                mismatches.append(Mismatch("fill_missing", trade.trade_id, detail))
        else:
            detail = f"{trade.side.value} {trade.size} of {trade.token_id} on order {trade.venue_order_id}"
            mismatches.append(Mismatch("trade_not_ours", trade.trade_id, detail))
    for fill in records.fills:
        if fill.trade_id not in venue_ids:
            detail = f"{fill.side.value} {fill.size} of {fill.token_id}: the venue has no such trade"
            mismatches.append(Mismatch("fill_unknown_at_venue", fill.trade_id, detail))
    for token in sorted(set(expected) | set(venue.token_balances)):
        want, have = expected.get(token, _ZERO), venue.token_balances.get(token, _ZERO)
        if want != have:
            mismatches.append(Mismatch("position", token, f"venue holds {have} shares, our positions {want}"))
    for token, condition_id in sorted(records.tokens.items()):
        listed = venue.token_markets.get(token)
        if listed is None:
            mismatches.append(
                Mismatch("token_unknown", token, f"the venue lists no such token (ours: {condition_id})")
            )
        elif listed != condition_id:
            detail = f"the venue lists it under {listed}, our window under {condition_id}"
            mismatches.append(Mismatch("token_market", token, detail))
    want_cash = records.expected_collateral
    if want_cash is not None and not missing and venue.collateral != want_cash:
        detail = f"venue balance {venue.collateral}, expected {want_cash}"
        mismatches.append(Mismatch("collateral", "COLLATERAL", detail))
    repairs = _repairs(records, venue, settles, absent, missing)
    return Reconciliation(tuple(mismatches), tuple(missing), tuple(settles), tuple(absent), repairs)
