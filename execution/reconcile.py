"""Reconciliation at start-up and after any user-channel gap: PostgreSQL against the venue.

`Reconciler.run(now)` reads our orders, fills, positions and windows (one mode) from PostgreSQL and
the venue's open orders, our orders' states, our trades, token and collateral balances and the
markets of our tokens through py-clob-client-v2, compares them in `core.reconciliation`, and
- on any mismatch opens the circuit breaker (a `breaker_events` row, a CRITICAL alert naming every
  mismatch, an audit entry): `require_trading_allowed` then refuses until an operator closes it;
- when clean and no trade repair is pending, marks the venue's collateral balance as agreed
  (`balance_marks`), which the next run expects, moved only by our fills and redemptions.
The repairs (`core.reconciliation.OrderRepair`: an unsettled order of ours the venue has settled,
or never got) are applied through `apply` (the order manager's `apply_repair`, which settles the
order from the venue's answer with the venue's sizes, prices and trade ids, fees from the schedule),
each with an audit entry keyed by what it settled (applying it again writes nothing new); then the
comparison runs again on the repaired rows. A repair the order's transition table refuses cannot be
applied safely: it is a mismatch, and opens the breaker like any other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import psycopg
import structlog
from psycopg.types.json import Jsonb
from py_clob_client_v2.clob_types import AssetType, BalanceAllowanceParams
from py_clob_client_v2.exceptions import PolyApiException

from core.enums import OrderStatus, Side, TradingMode
from core.money import from_micros, parse_decimal
from core.orders import InvalidTransition
from core.reconciliation import (
    Mismatch,
    OrderRepair,
    OurFill,
    OurOrder,
    Reconciliation,
    Records,
    VenueOrder,
    VenueState,
    VenueTrade,
    compare,
)
from sinks.postgres.safety import open_breaker, read_breaker

__all__ = ["BreakerOpen", "Reconciler", "VenueReads", "add_to_collateral_mark", "require_trading_allowed"]

log = structlog.get_logger(__name__)

_UNSETTLED = ("SUBMITTED", "UNKNOWN", "LIVE", "PARTIALLY_FILLED")
_ORDERS = (
    "SELECT venue_order_id, token_id, side, size, size_matched, status, client_order_id FROM orders"
    " WHERE mode = %s AND run_id IS NULL AND status = ANY(%s) AND NOT (status = 'PARTIALLY_FILLED' AND done)"
)
_ORDER_IDS = "SELECT venue_order_id FROM orders WHERE mode = %s AND run_id IS NULL"
_FILLS = (
    "SELECT trade_id, venue_order_id, token_id, side, size FROM fills"
    " WHERE mode = %s AND run_id IS NULL AND status <> 'FAILED'"
)
_FILLS_CASH = (
    "SELECT coalesce(sum(CASE side WHEN 'BUY' THEN -price * size ELSE price * size END - fee_usd), 0)"
    " FROM fills WHERE mode = %s AND run_id IS NULL AND status <> 'FAILED'"
)
_POSITIONS = (
    "SELECT token_id, sum(size) FROM positions WHERE mode = %s AND run_id IS NULL AND state <> 'CLOSED'"
    " GROUP BY token_id"
)
_WINDOW_OF = "SELECT condition_id FROM windows WHERE up_token_id = %(t)s OR down_token_id = %(t)s LIMIT 1"
_MARK = "SELECT balance, fills_cash FROM balance_marks WHERE mode = %s"
_SET_MARK = (
    "INSERT INTO balance_marks (mode, balance, fills_cash, marked_at) VALUES (%s, %s, %s, %s)"
    " ON CONFLICT (mode) DO UPDATE SET balance = EXCLUDED.balance, fills_cash = EXCLUDED.fills_cash,"
    " marked_at = EXCLUDED.marked_at"
)
_ADD_MARK = "UPDATE balance_marks SET balance = balance + %s, marked_at = %s WHERE mode = %s"
_AUDIT = (
    "INSERT INTO audit_log (at, actor, action, subject, detail, event_key) VALUES (%s, %s, 'reconcile_repair',"
    " %s, %s, %s) ON CONFLICT (event_key) DO NOTHING"
)
NO_WINDOW = "(no window)"


class VenueReads(Protocol):
    """The py-clob-client-v2 calls reconciliation makes (all reads)."""

    creds: Any

    def get_open_orders(
        self, params: Any = None, only_first_page: bool = False, next_cursor: Any = None
    ) -> Any: ...
    def get_order(self, order_id: str) -> Any: ...
    def get_trades(
        self, params: Any = None, only_first_page: bool = False, next_cursor: Any = None
    ) -> Any: ...
    def get_balance_allowance(self, params: Any = None) -> Any: ...
    def get_market(self, condition_id: str) -> Any: ...


class BreakerOpen(RuntimeError):
    """The circuit breaker is open: no order may go out until an operator closes it."""


def require_trading_allowed(conn: psycopg.Connection) -> None:
    """Raise `BreakerOpen` naming the cause while the breaker is open."""
    breaker = read_breaker(conn)
    if breaker.open:
        since = breaker.since.isoformat() if breaker.since else "?"
        raise BreakerOpen(f"circuit breaker open since {since}: {breaker.cause}")


def add_to_collateral_mark(
    conn: psycopg.Connection, mode: TradingMode, amount: Decimal, at: datetime
) -> None:
    """Collateral that came in by a known way other than a fill (a redemption): expect it next time."""
    conn.execute(_ADD_MARK, (amount, at, mode.value))


class Reconciler:
    """Reconciles `mode`'s rows on `conn` (autocommit) against the venue seen through `client`."""

    def __init__(
        self,
        conn: psycopg.Connection,
        client: VenueReads,
        mode: TradingMode = TradingMode.LIVE,
        actor: str = "executor",
        apply: Callable[[OrderRepair], object] | None = None,
    ) -> None:
        self._conn = conn
        self._client = client
        self.mode = mode
        self.actor = actor
        self.apply = apply
        """Applies one repair (the order manager's `apply_repair`); None: repairs are only returned."""

    def _compare(self) -> tuple[Reconciliation, VenueState, Decimal]:
        records, fills_cash = self.records()
        venue = self.venue_state(records)
        return compare(records, venue), venue, fills_cash

    def _repair(self, repairs: tuple[OrderRepair, ...], now: datetime) -> list[Mismatch]:
        """Apply each repair with its audit entry; the ones the order's table refuses are mismatches."""
        assert self.apply is not None
        refused: list[Mismatch] = []
        for repair in repairs:
            try:
                settled = self.apply(repair)
            except InvalidTransition as exc:
                refused.append(Mismatch("repair_refused", repair.venue_order_id, str(exc)))
                continue
            status = getattr(settled, "status", None)
            matched = getattr(settled, "size_matched", None)
            detail = {
                "venue_order_id": repair.venue_order_id,
                "reason": repair.reason,
                "status": str(status.value if status is not None else ""),
                "size_matched": str(matched),
                "trades": [
                    {"trade_id": t.trade_id, "price": str(t.price), "size": str(t.size), "status": t.status}
                    for t in repair.trades
                ],
                "mode": self.mode.value,
            }
            key = f"reconcile:{self.mode.value}:{repair.venue_order_id}:{detail['status']}:{matched}"
            self._conn.execute(
                _AUDIT, (now, self.actor, repair.client_order_id or repair.venue_order_id, Jsonb(detail), key)
            )
            log.info("reconcile.repaired", venue_order_id=repair.venue_order_id, reason=repair.reason)
        return refused

    def run(self, now: datetime) -> Reconciliation:
        result, venue, fills_cash = self._compare()
        if result.repairs and self.apply is not None:
            refused = self._repair(result.repairs, now)
            result, venue, fills_cash = self._compare()  # on the repaired rows
            if refused:
                result = replace(result, mismatches=(*result.mismatches, *refused))
        if not result.clean:
            open_breaker(self._conn, result.cause, now, self.actor)
            log.error("reconcile.mismatch", mismatches=[m.kind for m in result.mismatches])
        elif not result.recheck:
            self._conn.execute(_SET_MARK, (self.mode.value, venue.collateral, fills_cash, now))
        return result

    # ---- our side ------------------------------------------------------------------------------

    def records(self) -> tuple[Records, Decimal]:
        mode = self.mode.value
        conn = self._conn
        orders = tuple(
            OurOrder(vid, token, Side(side), size, matched, OrderStatus(status), coid)
            for vid, token, side, size, matched, status, coid in conn.execute(
                _ORDERS, (mode, list(_UNSETTLED))
            )
        )
        known = frozenset(str(r[0]) for r in conn.execute(_ORDER_IDS, (mode,)))
        fills = tuple(
            OurFill(tid, vid, token, Side(side), size)
            for tid, vid, token, side, size in conn.execute(_FILLS, (mode,))
        )
        positions = {str(t): Decimal(s) for t, s in conn.execute(_POSITIONS, (mode,))}
        tokens: dict[str, str] = {}
        for token in sorted(set(positions) | {o.token_id for o in orders}):
            row = conn.execute(_WINDOW_OF, {"t": token}).fetchone()
            tokens[token] = str(row[0]) if row else NO_WINDOW
        cash_row = conn.execute(_FILLS_CASH, (mode,)).fetchone()
        fills_cash = Decimal(cash_row[0]) if cash_row else Decimal(0)
        mark = conn.execute(_MARK, (mode,)).fetchone()
        expected = None if mark is None else Decimal(mark[0]) + fills_cash - Decimal(mark[1])
        return Records(orders, fills, positions, tokens, expected, known), fills_cash

    # ---- the venue's side ----------------------------------------------------------------------

    def venue_state(self, records: Records) -> VenueState:
        client = self._client
        open_orders = tuple(_venue_order(o) for o in client.get_open_orders())
        views: dict[str, VenueOrder] = {}
        for ours in records.orders:
            try:
                views[ours.venue_order_id] = _venue_order(client.get_order(ours.venue_order_id))
            except PolyApiException as exc:
                if exc.status_code != 404:
                    raise
        api_key = str(client.creds.api_key)
        trades = tuple(leg for t in client.get_trades() for leg in our_legs(t, api_key))
        held = sorted(set(records.positions) | set(records.tokens))
        balances = {t: self._balance(AssetType.CONDITIONAL, t) for t in held}
        markets: dict[str, str] = {}
        for condition_id in sorted(set(records.tokens.values()) - {NO_WINDOW}):
            try:
                market = client.get_market(condition_id)
            except PolyApiException as exc:
                if exc.status_code != 404:
                    raise
                continue
            for token in market.get("tokens") or []:
                markets[str(token["token_id"])] = str(market.get("condition_id", condition_id))
        return VenueState(open_orders, views, trades, balances, markets, self._balance(AssetType.COLLATERAL))

    def _balance(self, asset_type: str, token_id: str | None = None) -> Decimal:
        answer = self._client.get_balance_allowance(
            BalanceAllowanceParams(asset_type=asset_type, token_id=token_id)
        )
        return from_micros(str(answer["balance"]))


def _status(text: Any) -> str:
    return str(text).upper().removeprefix("ORDER_STATUS_")


def _venue_order(o: dict[str, Any]) -> VenueOrder:
    return VenueOrder(
        str(o["id"]),
        str(o["asset_id"]),
        Side(str(o["side"]).upper()),
        parse_decimal(str(o["original_size"])),
        parse_decimal(str(o["size_matched"])),
        _status(o["status"]),
    )


def our_legs(trade: dict[str, Any], api_key: str) -> list[VenueTrade]:
    """Our side of a `/data/trades` item: the taker leg, or each maker leg owned by our key."""
    tid, status = str(trade["id"]), _status(trade["status"])
    if trade.get("trader_side") == "TAKER":
        return [
            VenueTrade(
                tid,
                str(trade["taker_order_id"]),
                str(trade["asset_id"]),
                Side(str(trade["side"]).upper()),
                parse_decimal(str(trade["size"])),
                status,
                parse_decimal(str(trade["price"])),
            )
        ]
    return [
        VenueTrade(
            tid,
            str(leg["order_id"]),
            str(leg["asset_id"]),
            Side(str(leg["side"]).upper()),
            parse_decimal(str(leg["matched_amount"])),
            status,
            parse_decimal(str(leg["price"])),
            maker=True,
        )
        for leg in trade.get("maker_orders") or []
        if leg.get("owner") == api_key
    ]
