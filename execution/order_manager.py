"""`OrderManager.execute(intent)`: one code path for every mode; the mode only chose, at start-up,
the parts handed in (how an order is built, where the balance comes from, where fills come from).

The steps of an entry, each a transaction before the next one acts:
1. the guards (`core.execution_guards.check_entry`) on the stored orders of the window, the open
   positions, the day's P&L and the balance; a refusal is an audit entry, nothing else;
2. the order is built (signed in LIVE and DRY_RUN: its venue id, the digest, is known here) and
   stored as SUBMITTED with its position (ENTRY) and the full payload, before anything is sent;
3. the fill source places it (LIVE: POST and the confirmation loop; the others: the simulated
   walk of a book), and the outcome is applied through `core.orders` and `core.positions`;
4. the order's final state, its fills (prices, sizes from the fills; fees from the schedule) and
   the position are written with the audit entry, in one transaction.

An executor that dies between any two steps is resumed by `recover()`: an order stored and not
settled is asked of the venue by its id (LIVE) and only re-posted, as the same signed body, when the
venue has no such order. An intent seen again finds its order stored and is not executed twice.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import structlog

from core.enums import Side, TradeStatus, TradingMode
from core.execution import TradeSeen, decision_book, position_id_for, stale_intent
from core.execution_guards import Blocked, EntryContext, ExecutionLimits, check_entry
from core.fees import FeeSchedule, trade_fee
from core.ids import ClientOrderId, TokenId, TradeId, VenueOrderId, WindowId
from core.models import Fill, OrderIntent
from core.orders import InvalidTransition, OrderEvent, OrderState, Posted
from core.orders import apply as apply_order
from core.positions import EntryDone, EntryTrade, Position
from core.positions import apply as apply_position
from core.reconciliation import OrderRepair
from sinks.postgres.execution import (
    AuditEntry,
    ExecutionStore,
    ExecutionWrite,
    OrderRow,
    PositionRow,
    StoredOrder,
)

__all__ = [
    "BuiltOrder",
    "ExecutionResult",
    "FillSource",
    "MarketInfo",
    "OrderBuilder",
    "OrderManager",
    "Placed",
]

log = structlog.get_logger(__name__)
DEFAULT_LIMITS = ExecutionLimits()


@dataclass(frozen=True, slots=True)
class BuiltOrder:
    """An order ready to go: its venue id and the payload stored before it is placed."""

    venue_order_id: VenueOrderId
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Placed:
    """What placing (or resuming) an order came to: its events after Posted, and its trades."""

    events: list[OrderEvent]
    trades: list[TradeSeen]


class OrderBuilder(Protocol):
    def build(self, intent: OrderIntent, tick: Decimal) -> BuiltOrder: ...


class FillSource(Protocol):
    def place(
        self, intent: OrderIntent, built: BuiltOrder, tick: Decimal, schedule: FeeSchedule
    ) -> Placed: ...

    def resume(self, stored: StoredOrder, schedule: FeeSchedule) -> Placed: ...


class MarketInfo(Protocol):
    def market_info(self, token_id: str) -> tuple[Decimal, FeeSchedule]: ...


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    client_order_id: str
    status: str
    rule: str = ""
    filled: Decimal = Decimal(0)


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


class OrderManager:
    """Executes intents in one mode; `startup_checks` (lock, collateral) runs first; `gate` is asked
    before every entry and a `Blocked` it returns refuses the entry (audited like any refusal)."""

    def __init__(
        self,
        mode: TradingMode,
        store: ExecutionStore,
        builder: OrderBuilder,
        fills: FillSource,
        markets: MarketInfo,
        balance: Callable[[], Decimal],
        clock: Callable[[OrderIntent | None], datetime],
        limits: ExecutionLimits = DEFAULT_LIMITS,
        startup_checks: Callable[[], None] = lambda: None,
        gate: Callable[[], Blocked | None] = lambda: None,
        prefetch_balance: bool = False,
    ) -> None:
        self.mode = mode
        self.store = store
        self.builder = builder
        self.fills = fills
        self.markets = markets
        self._balance = balance
        self.clock = clock
        self._limits = limits
        self._startup_checks = startup_checks
        self._gate = gate
        self._prefetch = ThreadPoolExecutor(1, thread_name_prefix="balance") if prefetch_balance else None
        """The balance is asked on its own thread (a venue read over HTTP; not a database one, which
        would share the connection)."""

    def balance(self) -> Decimal:
        """The collateral this mode trades against (the venue's, or the paper balance)."""
        return self._balance()

    def start(self) -> None:
        """Start-up: the safety checks first (another slice's hook), then orders left unsettled."""
        self._startup_checks()
        self.recover()

    def recover(self) -> int:
        """Settle every order a previous run left between steps; returns how many were looked at."""
        left = self.store.unsettled_orders()
        for stored in left:
            _tick, schedule = self.markets.market_info(stored.token_id)
            placed = self.fills.resume(stored, schedule)
            self._finish(stored, placed, None)
        return len(left)

    def settle_unknown(self) -> int:
        """UNKNOWN orders the user channel has spoken about since their confirmation ran out: each is
        asked of the venue again (`FillSource.resume`) and settled by its answer. The rows are read
        only while frames wait; returns how many were settled."""
        pushed = getattr(self.fills, "pushed", None)
        if pushed is None or not len(pushed):
            return 0
        settled = 0
        for stored in self.store.unsettled_orders():
            if stored.state.unknown and pushed.seen(stored.venue_order_id) != (None, []):
                _tick, schedule = self.markets.market_info(stored.token_id)
                if self._finish(stored, self.fills.resume(stored, schedule), None).settled:
                    settled += 1
        return settled

    def apply_repair(self, repair: OrderRepair) -> OrderState:
        """Settle a stored order from the venue's answer that reconciliation found (its events, and
        every venue trade of the order: sizes, prices and ids the venue's, fees from the market's
        schedule). The rows are rebuilt from all of them, so a repair applied twice changes nothing;
        `core.orders.InvalidTransition` when the order's table refuses the answer."""
        stored = self.store.order(repair.client_order_id)
        if stored is None:
            raise InvalidTransition(f"{repair.venue_order_id}: no order of ours with that id")
        _tick, schedule = self.markets.market_info(stored.token_id)
        trades = [
            TradeSeen(
                t.trade_id,
                t.price,
                t.size,
                trade_fee(schedule, t.size, t.price, is_maker=t.maker),
                TradeStatus(t.status),
            )
            for t in repair.trades
        ]
        return self._finish(stored, Placed(list(repair.events), trades), None)

    def execute(self, intent: OrderIntent) -> ExecutionResult:
        coid = intent.client_order_id
        now = self.clock(intent)
        # The venue's balance is asked while the guards' rows are read (one round trip): both are
        # fresh for every entry, neither waits for the other.
        pending = self._prefetch.submit(self._balance) if self._prefetch is not None else None
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        stored, window_orders, position_usd, day_pnl = self.store.entry_reads(
            coid, intent.window_id, intent.token_id, day_start
        )
        if stored is not None:  # seen before: never a second order; settle it if it is not yet
            if not stored.state.settled:
                _tick, schedule = self.markets.market_info(stored.token_id)
                self._finish(stored, self.fills.resume(stored, schedule), intent)
                stored = self.store.order(coid) or stored
            return ExecutionResult(
                coid, stored.state.status.value, "duplicate_intent", stored.state.size_matched
            )
        tick, schedule = self.markets.market_info(intent.token_id)
        balance = pending.result() if pending is not None else self._balance()
        context = EntryContext(
            window_orders=window_orders,
            position_usd=position_usd,
            available_usd=balance,
            day_pnl_usd=day_pnl,
        )
        stale = stale_intent(intent.event_ts, now) if self.mode is not TradingMode.BACKTEST else None
        refused = self._gate()  # the safety net's word (the circuit breaker) before any rule of ours
        verdict = (
            refused
            if refused is not None
            else Blocked("stale_intent", stale)
            if stale
            else check_entry(intent, context, schedule, self._limits)
        )
        audit = self._audit_detail(intent, balance, str(verdict), now)
        if isinstance(verdict, Blocked):
            entry = AuditEntry(f"entry-blocked:{coid}", "entry_blocked", coid, audit, now)
            self.store.write(ExecutionWrite(audit=[entry]))
            return ExecutionResult(coid, "BLOCKED", verdict.rule)

        built = self.builder.build(intent, tick)
        position_id = position_id_for(coid)
        order = apply_order(OrderState(coid, intent.order_type, intent.size), Posted(built.venue_order_id))
        row = self._order_row(intent, order, built, position_id, now, now, tick)
        audit["order_payload"] = row.payload
        self.store.write(
            ExecutionWrite(
                position=PositionRow(
                    Position(position_id), intent.window_id, intent.token_id, intent.strategy, now, now
                ),
                order=row,
                audit=[AuditEntry(f"entry:{coid}", "entry", coid, audit, now)],
            )
        )
        stored = StoredOrder(
            order, built.venue_order_id, position_id, intent.window_id, intent.token_id, row.payload
        )
        placed = self.fills.place(intent, built, tick, schedule)
        final = self._finish(stored, placed, intent)
        return ExecutionResult(coid, final.status.value, "", final.size_matched)

    def _finish(self, stored: StoredOrder, placed: Placed, intent: OrderIntent | None) -> OrderState:
        """Apply the outcome to the order and its position and write them, with the fills."""
        order = stored.state
        for event in placed.events:
            order = apply_order(order, event)
        now = self.clock(intent)
        position_id = stored.position_id or position_id_for(ClientOrderId(order.client_order_id))
        known = self.store.position(position_id)
        opened = known[1] if known else now
        intended = intent.limit_price if intent is not None else self._intended(stored)
        position = Position(position_id)
        fills: list[tuple[Fill, Decimal]] = []
        for trade in placed.trades:
            fill = self._fill(stored, trade, now)
            fills.append((fill, intended))
            if not trade.failed:
                position = apply_position(
                    position, EntryTrade(trade.trade_id, trade.size, trade.price, trade.fee, intended)
                )
        if order.settled:
            position = apply_position(position, EntryDone())
        side = intent.side if intent is not None else self._side(stored)
        price = intent.limit_price if intent is not None else intended
        strategy = intent.strategy if intent is not None else "recovered"
        row = OrderRow(
            order,
            stored.venue_order_id,
            position_id,
            stored.window_id,
            stored.token_id,
            side,
            price,
            stored.payload,
            opened,
            now,
        )
        result = {
            "status": order.status.value,
            "size_matched": str(order.size_matched),
            "detail": order.detail,
            "fills": [
                {"trade_id": t.trade_id, "price": str(t.price), "size": str(t.size), "fee": str(t.fee)}
                for t in placed.trades
            ],
            "ts_ms": _ms(now),
        }
        # An exit order (a SELL) left unsettled is settled here too; its position is EXIT_PENDING and
        # only `execution.exits` moves it (it rebuilds it from these fills).
        entry = side is Side.BUY
        self.store.write(
            ExecutionWrite(
                position=PositionRow(position, stored.window_id, stored.token_id, strategy, opened, now)
                if entry
                else None,
                order=row,
                fills=fills,
                audit=[
                    AuditEntry(
                        f"order:{order.client_order_id}:{order.status.value}:{order.size_matched}",
                        "order_result",
                        order.client_order_id,
                        result,
                        now,
                    )
                ],
            )
        )
        log.info(
            "execution.order",
            client_order_id=order.client_order_id,
            status=order.status.value,
            matched=str(order.size_matched),
        )
        return order

    def _fill(self, stored: StoredOrder, trade: TradeSeen, now: datetime) -> Fill:
        return self.fill_of(
            stored.state.client_order_id,
            stored.venue_order_id,
            stored.window_id,
            stored.token_id,
            self._side(stored),
            trade,
            now,
        )

    def fill_of(
        self,
        client_order_id: str,
        venue_order_id: str,
        window_id: str,
        token_id: str,
        side: Side,
        trade: TradeSeen,
        now: datetime,
    ) -> Fill:
        """A trade of ours as the fill row: price and size as the venue (or the book) made them."""
        return Fill(
            source_ts=now,
            recv_ts=now,
            source_id=trade.trade_id,
            trade_id=TradeId(trade.trade_id),
            venue_order_id=VenueOrderId(venue_order_id),
            client_order_id=ClientOrderId(client_order_id),
            window_id=WindowId(window_id),
            token_id=TokenId(token_id),
            mode=self.mode,
            side=side,
            price=trade.price,
            size=trade.size,
            fee_usd=trade.fee,
            status=trade.status,
            is_maker=False,
        )

    @staticmethod
    def _side(stored: StoredOrder) -> Side:
        return Side((stored.payload or {}).get("side", Side.BUY.value))

    @staticmethod
    def _intended(stored: StoredOrder) -> Decimal:
        price = (stored.payload or {}).get("limit_price")
        return Decimal(price) if price else Decimal(0)

    def _order_row(
        self,
        intent: OrderIntent,
        order: OrderState,
        built: BuiltOrder,
        position_id: str,
        created: datetime,
        updated: datetime,
        tick: Decimal,
    ) -> OrderRow:
        # What the order was, and the book its decision saw: a simulated order a crash leaves
        # unsettled is walked again against that book (`BookFills.resume`).
        payload = {
            "body": built.payload,
            "side": intent.side.value,
            "limit_price": str(intent.limit_price),
            "size": str(intent.size),
            "tick": str(tick),
            "decision_book": [[str(p), str(s)] for p, s in sorted(decision_book(intent).items())],
        }
        return OrderRow(
            order,
            built.venue_order_id,
            position_id,
            intent.window_id,
            intent.token_id,
            intent.side,
            intent.limit_price,
            payload,
            created,
            updated,
        )

    def _audit_detail(
        self, intent: OrderIntent, balance: Decimal, risk: str, now: datetime
    ) -> dict[str, Any]:
        ctx = intent.context
        return {
            "intent_id": intent.client_order_id,
            "signal": ctx.signal.model_dump(mode="json")
            if ctx is not None
            else {"signal_id": intent.signal_id},
            "clob_price": str(intent.limit_price),
            "book": ctx.model_dump(mode="json", include={"up_bids", "up_asks", "down_bids", "down_asks"})
            if ctx
            else None,
            "risk_result": ctx.risk_result if ctx is not None else "",
            "execution_check": risk,
            "balance_usd": str(balance),
            "intent_ts_ms": _ms(intent.event_ts),
            "ts_ms": _ms(now),
        }
