"""Position monitoring and exits: on a book update, every MONITORING position on the token is decided
by `core.exits.decide_exit`; a trigger sends the exit at once, through the same order builder and
fill source as the entries (the mode chose them at start-up).

A triggered position goes EXIT_PENDING either with its exit order (a FAK SELL of what it holds,
`core.exits.exit_plan`, client id `exit_client_order_id(position id)`: one exit per position, so a
restarted executor finds it again) or held to resolution when the book cannot take the order, which
is recorded (`held_to_resolution`, `hold_reason`). The exit's fills close it; every exit's audit
entry holds the trigger, the intended and actual price, the slippage and the fees.

The position is rebuilt from its stored trades on each decision (`core.positions.apply`), so
nothing is kept in memory between book updates; a trailing take-profit's peak is stored with the
position whenever a bid raises it (`positions.peak_price`) and restored with it, so a restarted
executor trails from the same peak.

`flatten` is the kill switch's exit (FLATTEN, EMERGENCY): a MONITORING position exits now with
reason FLATTEN through the same plan, order builder and fill source, whatever the bid, so the sell,
its fills, the position and the audit entry are written like any exit's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from core.enums import ExitReason, OrderType, Outcome, PositionState, Side
from core.execution_guards import exit_client_order_id
from core.exits import ExitConfig, ExitOrder, decide_exit, exit_plan
from core.ids import TokenId, WindowId
from core.models import DecisionContext, Level, OrderIntent, Signal
from core.orders import OrderState, Posted
from core.orders import apply as apply_order
from core.pnl import realized_pnl
from core.positions import (
    EntryDone,
    EntryTrade,
    ExitOrdered,
    ExitTrade,
    HeldToResolution,
    Mark,
    Position,
    Redeemed,
    Resolved,
    Triggered,
)
from core.positions import apply as apply_position
from execution.order_manager import OrderManager
from sinks.postgres.execution import AuditEntry, ExecutionStore, ExecutionWrite, OrderRow, PositionRow

__all__ = ["ExitManager", "ExitResult"]


@dataclass(frozen=True, slots=True)
class ExitResult:
    position_id: str
    reason: str
    state: PositionState
    held: bool


class ExitManager:
    def __init__(self, manager: OrderManager, config: ExitConfig = ExitConfig()) -> None:  # noqa: B008
        self._m = manager
        self._config = config

    @property
    def store(self) -> ExecutionStore:
        return self._m.store

    def _rebuild(self, position_id: str) -> Position:
        """The position as its stored trades and marks make it, through `core.positions.apply`."""
        position = Position(position_id)
        trades = self._m.store.position_trades(position_id)
        for tid, side, price, size, fee, intended in trades:
            if side is Side.BUY:
                position = apply_position(position, EntryTrade(tid, size, price, fee, intended))
        if position.size <= 0:
            return position
        position = apply_position(position, EntryDone())
        peak = self._m.store.position_peak(position_id)
        if peak is not None and position.state is PositionState.MONITORING:
            position = apply_position(position, Mark(peak))
        marks = self._m.store.position_marks(position_id)
        if marks is None:
            return position
        _state, reason, held, hold_reason, exit_order = marks
        if reason is None:
            return position
        position = apply_position(position, Triggered(ExitReason(reason)))
        if exit_order is not None:
            position = apply_position(position, ExitOrdered(exit_order))
        else:
            position = apply_position(position, HeldToResolution(hold_reason))
        for tid, side, price, size, fee, intended in trades:
            if side is Side.SELL:
                position = apply_position(position, ExitTrade(tid, size, price, fee, intended))
        if held and exit_order is not None and position.state is PositionState.EXIT_PENDING:
            position = apply_position(position, HeldToResolution(hold_reason))
        return position

    def on_resolved(
        self, window_id: str, tokens: tuple[str, str], winner: str, now: datetime
    ) -> list[ExitResult]:
        """The window resolved: every position of it still open settles (`core.positions.Resolved`). A
        lost one closes with its P&L; a won one keeps its payout due until it is redeemed."""
        results: list[ExitResult] = []
        found = [
            (token, row)
            for token in tokens
            for state in (PositionState.MONITORING, PositionState.EXIT_PENDING)
            for row in self._m.store.open_positions(token, state)
            if row[1] == window_id
        ]  # read before any write: a settled position is not found again in its new state
        for token, (position_id, window, strategy, opened) in found:
            position = self._rebuild(position_id)
            if position.state is PositionState.MONITORING:
                position = apply_position(position, Triggered(ExitReason.EXPIRY))
                position = apply_position(position, HeldToResolution("window_ended"))
            position = apply_position(position, Resolved(won=token == winner))
            pnl = realized_pnl(position)
            audit: dict[str, object] = {
                "won": token == winner,
                "realized_pnl_usd": str(pnl.realized),
                "payout_due_usd": str(position.payout_due),
                "fees_usd": str(pnl.fees),
                "slippage_usd": str(pnl.slippage),
                "ts_ms": int(now.timestamp() * 1000),
            }
            self._m.store.write(
                ExecutionWrite(
                    position=PositionRow(position, window, token, strategy, opened, now),
                    audit=[AuditEntry(f"resolved:{position_id}", "resolved", position_id, audit, now)],
                )
            )
            results.append(ExitResult(position_id, "RESOLVED", position.state, position.held_to_resolution))
        return results

    def on_redeemed(
        self, position_id: str, window_id: str, token_id: str, strategy: str, opened: datetime, now: datetime
    ) -> Position:
        """A won position's payout is in the balance (execution.redemptions): it closes with it."""
        position = apply_position(self._rebuild(position_id), Resolved(won=True))
        position = apply_position(position, Redeemed(position.size))
        pnl = realized_pnl(position)
        audit: dict[str, object] = {
            "payout_usd": str(position.payout),
            "realized_pnl_usd": str(pnl.realized),
            "ts_ms": int(now.timestamp() * 1000),
        }
        self._m.store.write(
            ExecutionWrite(
                position=PositionRow(position, window_id, token_id, strategy, opened, now),
                audit=[AuditEntry(f"redeemed:{position_id}", "redeemed", position_id, audit, now)],
            )
        )
        return position

    def on_book(
        self, token_id: str, bids: Mapping[Decimal, Decimal], now: datetime, window_end: datetime
    ) -> list[ExitResult]:
        """Decide every MONITORING position on `token_id` against `bids` (`{price: size}`) at `now`."""
        results: list[ExitResult] = []
        live_bids = {p: s for p, s in bids.items() if s > 0}
        best = max(live_bids, default=None)
        for position_id, window_id, strategy, opened in self._m.store.open_positions(
            token_id, PositionState.MONITORING
        ):
            position = self._rebuild(position_id)
            peak = position.peak_price
            if best is not None:
                position = apply_position(position, Mark(best))
            decision = decide_exit(position, best, now, window_end, self._config)
            row = PositionRow(position, window_id, token_id, strategy, opened, now)
            if decision is None:
                if position.peak_price != peak:  # a new peak: kept for the trailing take-profit
                    self._m.store.write(ExecutionWrite(position=row))
                continue
            audit: dict[str, object] = {
                "trigger": decision.reason.value,
                "mark": str(decision.mark) if decision.mark is not None else None,
                "threshold": str(decision.threshold) if decision.threshold is not None else None,
                "ts_ms": int(now.timestamp() * 1000),
            }
            position = self._exit_now(position, row, decision.reason, live_bids, audit, window_end)
            held = position.held_to_resolution and position.exit_order_id is None
            results.append(ExitResult(position_id, decision.reason.value, position.state, held))
        return results

    def flatten(
        self,
        position_id: str,
        token_id: str,
        bids: Mapping[Decimal, Decimal],
        now: datetime,
        window_end: datetime | None,
        trigger: str,
    ) -> Position | None:
        """Exit `position_id` now for the kill switch's `trigger` (FLATTEN, EMERGENCY), reason FLATTEN:
        the position after (sold, partly sold, or held to resolution when the book cannot take it),
        or None when it is not MONITORING (entering, or already exiting: nothing else may move it)."""
        rows = self._m.store.open_positions(token_id, PositionState.MONITORING)
        found = next((r for r in rows if r[0] == position_id), None)
        if found is None:
            return None
        _pid, window_id, strategy, opened = found
        position = self._rebuild(position_id)
        if position.state is not PositionState.MONITORING:
            return None
        live_bids = {p: s for p, s in bids.items() if s > 0}
        best = max(live_bids, default=None)
        if best is not None:
            position = apply_position(position, Mark(best))
        row = PositionRow(position, window_id, token_id, strategy, opened, now)
        audit: dict[str, object] = {
            "trigger": trigger,
            "mark": str(best) if best is not None else None,
            "threshold": None,
            "ts_ms": int(now.timestamp() * 1000),
        }
        # A window whose end is not known here is taken as still trading: the venue refuses if not.
        end = window_end if window_end is not None else now + timedelta(days=1)
        return self._exit_now(position, row, ExitReason.FLATTEN, live_bids, audit, end)

    def _exit_now(
        self,
        position: Position,
        row: PositionRow,
        reason: ExitReason,
        live_bids: Mapping[Decimal, Decimal],
        audit: dict[str, object],
        window_end: datetime,
    ) -> Position:
        """Trigger `position` for `reason` and send its exit, or hold it to resolution (recorded)."""
        now, position_id = row.updated_at, position.position_id
        position = apply_position(position, Triggered(reason))
        tick, schedule = self._m.markets.market_info(row.token_id)
        plan = exit_plan(position, live_bids, schedule, tick, now, window_end)
        row = PositionRow(position, row.window_id, row.token_id, row.strategy, row.opened_at, now)
        if isinstance(plan, ExitOrder):
            return self._send(position, row, plan, max(live_bids, default=None), audit)
        position = apply_position(position, HeldToResolution(plan.reason))
        audit["held_to_resolution"] = plan.reason
        self._m.store.write(
            ExecutionWrite(
                position=PositionRow(position, row.window_id, row.token_id, row.strategy, row.opened_at, now),
                audit=[AuditEntry(f"exit:{position_id}", "exit_held", position_id, audit, now)],
            )
        )
        return position

    def _send(
        self,
        position: Position,
        row: PositionRow,
        plan: ExitOrder,
        best: Decimal | None,
        audit: dict[str, object],
    ) -> Position:
        now = row.updated_at
        intent = self._exit_intent(position.position_id, row, plan, now)
        tick, schedule = self._m.markets.market_info(row.token_id)
        built = self._m.builder.build(intent, tick)
        position = apply_position(position, ExitOrdered(intent.client_order_id))
        order = apply_order(
            OrderState(intent.client_order_id, intent.order_type, plan.size), Posted(built.venue_order_id)
        )
        payload = {"body": built.payload, "side": Side.SELL.value, "limit_price": str(plan.limit_price)}

        def order_row(state: OrderState) -> OrderRow:
            return OrderRow(
                state,
                built.venue_order_id,
                position.position_id,
                row.window_id,
                row.token_id,
                Side.SELL,
                plan.limit_price,
                payload,
                now,
                now,
            )

        self._m.store.write(
            ExecutionWrite(
                position=PositionRow(position, row.window_id, row.token_id, row.strategy, row.opened_at, now),
                order=order_row(order),
            )
        )
        placed = self._m.fills.place(intent, built, tick, schedule)
        for event in placed.events:
            order = apply_order(order, event)
        intended = best if best is not None else plan.limit_price
        fills = []
        for trade in placed.trades:
            if not trade.failed:
                position = apply_position(
                    position, ExitTrade(trade.trade_id, trade.size, trade.price, trade.fee, intended)
                )
            fill = self._m.fill_of(
                order.client_order_id,
                built.venue_order_id,
                row.window_id,
                row.token_id,
                Side.SELL,
                trade,
                now,
            )
            fills.append((fill, intended))
        pnl = realized_pnl(position)
        audit.update(
            intended_price=str(intended),
            actual_price=str(pnl.exit_proceeds / position.exit_size) if position.exit_size else None,
            slippage_usd=str(position.exit_slippage),
            fees_usd=str(position.exit_fees),
            status=order.status.value,
            order_payload=payload,
        )
        self._m.store.write(
            ExecutionWrite(
                position=PositionRow(position, row.window_id, row.token_id, row.strategy, row.opened_at, now),
                order=order_row(order),
                fills=fills,
                audit=[AuditEntry(f"exit:{position.position_id}", "exit", position.position_id, audit, now)],
            )
        )
        return position

    def _exit_intent(self, position_id: str, row: PositionRow, plan: ExitOrder, now: datetime) -> OrderIntent:
        bids = tuple(Level(price=lv.price, size=lv.size) for lv in plan.expected.levels)
        signal = Signal(
            signal_id=f"exit-{position_id}",
            window_id=WindowId(row.window_id),
            strategy=row.strategy,
            token_id=TokenId(row.token_id),
            outcome=Outcome.UP,  # the book below is this token's, whichever outcome it is
            side=Side.SELL,
            limit_price=plan.limit_price,
            notional_usd=plan.limit_price * plan.size,
            event_ts=now,
        )
        context = DecisionContext(
            up_bids=bids, signal=signal, risk_result="EXIT", controls_version=0, event_ts=now
        )
        return OrderIntent(
            client_order_id=exit_client_order_id(position_id),
            signal_id=signal.signal_id,
            window_id=WindowId(row.window_id),
            strategy=row.strategy,
            token_id=TokenId(row.token_id),
            side=Side.SELL,
            order_type=OrderType.FAK,
            limit_price=plan.limit_price,
            size=plan.size,
            mode=self._m.mode,
            event_ts=now,
            position_id=position_id,
            context=context,
        )
