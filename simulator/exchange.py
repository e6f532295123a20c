"""The simulated CLOB: markets, accounts, books, trades, and the events they publish.

Not thread-safe: call it from the server's event loop (REST handlers, socket tasks and scenario
tasks all run there). Every state change is published to `listeners` as `MarketMessage` (public
market channel) or `UserMessage` (one account's user channel); the socket modules subscribe.
Accounts are lower-cased signer addresses for API users, or owner names such as "sim-mm" for
simulated market makers, whose balances are unlimited.

The exchange orders the work; its collaborators do it: `clearing` moves money, `OrderStore` keeps
orders and trades, `Publisher` builds and sends messages, `Heartbeats` tracks sessions.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from simulator import clearing
from simulator.accounts import COLLATERAL, Ledger
from simulator.book import Fill, MarketBook, Order, Side
from simulator.config import SimulatorConfig
from simulator.faults import FaultState
from simulator.heartbeats import Heartbeats
from simulator.market_events import MarketState, tick_change_event
from simulator.markets import SimClock, SimMarket, WallClock
from simulator.order_checks import check_fillable, check_order
from simulator.order_store import OrderStore
from simulator.protocol import MarketMessage as MarketMessage
from simulator.protocol import Message as Message
from simulator.protocol import OrderRequest as OrderRequest
from simulator.protocol import OrderType as OrderType
from simulator.protocol import SubmitResult as SubmitResult
from simulator.protocol import UserMessage as UserMessage
from simulator.protocol import VenueError as VenueError
from simulator.protocol import account_key
from simulator.publisher import Publisher
from simulator.refill import RefillGate, up_level
from simulator.trades import Lifecycle, TradeRecord
from simulator.wire import Json, market_lifecycle_event

MICRO = Decimal("0.000001")
CENT = Decimal("0.01")
HIGH_TICK_EDGE = Decimal("0.96")
LOW_TICK_EDGE = Decimal("0.04")
FINE_TICK = Decimal("0.001")


class Exchange:
    """Markets, books, balances and trades of one simulated venue."""

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        clock: SimClock | None = None,
        faults: FaultState | None = None,
    ) -> None:
        self.config = config or SimulatorConfig()
        self._clock: SimClock = clock or WallClock()
        self.faults = faults or FaultState()
        self.ledger = Ledger(self.config.initial_collateral_usd)
        self.lifecycle = Lifecycle(self.config.trade_mined_delay_s, self.config.trade_confirmed_delay_s)
        self._rng = random.Random(self.config.seed)
        self._pub = Publisher(self._clock, self.ledger, self._rng)
        self.listeners: list[Callable[[Message], None]] = self._pub.listeners
        self.notifications: dict[str, list[Json]] = self._pub.notifications
        self._markets: dict[str, MarketState] = {}
        self._token_market: dict[str, str] = {}
        self._store = OrderStore()
        self._trades = self._store.trades
        self._heartbeats = Heartbeats(self.config.heartbeat_timeout_s)
        self._seq = 0
        self._refill = RefillGate(self.config.refill_delay_s, self.config.seed)

    @property
    def clock(self) -> SimClock:
        """Scenario time: books, sockets, order expiry and `/time` all read it."""
        return self._clock

    @clock.setter
    def clock(self, clock: SimClock) -> None:
        self._clock = clock
        self._pub.clock = clock

    # ---- markets ---------------------------------------------------------------------------

    def add_market(self, m: SimMarket) -> None:
        """List a market; its tokens become tradeable and `new_market` goes out (custom feature)."""
        if m.condition_id in self._markets:
            return
        state = MarketState(m, MarketBook(m.up_token_id, m.down_token_id), m.tick_size)
        self._markets[m.condition_id] = state
        for token in m.token_ids:
            self._token_market[token] = m.condition_id
        self._pub.market(state, market_lifecycle_event(m, "new_market", self._pub.now_ms()), True)

    def markets(self) -> list[SimMarket]:
        return [s.market for s in self._markets.values()]

    def market(self, condition_id: str) -> SimMarket:
        return self._state(condition_id).market

    def market_of_token(self, token_id: str) -> SimMarket:
        return self._state_of_token(token_id).market

    def has_token(self, token_id: str) -> bool:
        return token_id in self._token_market

    def is_closed(self, condition_id: str) -> bool:
        return self._state(condition_id).closed

    def winner(self, condition_id: str) -> str | None:
        return self._state(condition_id).winner

    def tick_size(self, token_or_condition: str) -> Decimal:
        cid = self._token_market.get(token_or_condition, token_or_condition)
        return self._state(cid).tick

    def set_tick_size(self, condition_id: str, tick: Decimal) -> None:
        """Change a market's tick and announce `tick_size_change` for both tokens."""
        state = self._state(condition_id)
        old, state.tick = state.tick, tick
        if old == tick:
            return
        for token in state.market.token_ids:
            self._pub.market(state, tick_change_event(condition_id, token, old, tick, self._pub.now_ms()))

    def close_market(self, condition_id: str) -> None:
        """Stop accepting orders (the window's endDate); resting orders wait for resolution."""
        self._state(condition_id).closed = True

    def resolve_market(self, condition_id: str, winning_token_id: str) -> None:
        """Cancel resting orders (CANCELED_MARKET_RESOLVED) and record the winner; shares wait for a redeem."""
        state = self._state(condition_id)
        m = state.market
        if winning_token_id not in m.token_ids:
            raise ValueError(f"{winning_token_id} is not a token of {condition_id}")
        if state.winner is not None:
            return
        state.closed = True
        state.winner = winning_token_id
        self._refill.forget_market(condition_id)
        for order in state.book.resting_orders():
            self._cancel(order, "CANCELED_MARKET_RESOLVED")
        now_ms = self._pub.now_ms()
        self._pub.books(state, now_ms)
        # Nothing is paid here: as on chain, holders redeem (simulator.chain, Ledger.redeem).
        for account in self.ledger.holders(winning_token_id, m.other_token(winning_token_id)):
            note = {"type": 4, "market": condition_id, "winning_asset_id": winning_token_id}
            self._pub.notify(account, note)
        payload = market_lifecycle_event(m, "market_resolved", now_ms, winning_token_id)
        self._pub.market(state, payload, True)

    # ---- balances --------------------------------------------------------------------------

    def set_balance(self, address: str, asset: str, amount: Decimal) -> None:
        """Set an account's balance from outside (deposits, withdrawals, fault injection)."""
        asset = COLLATERAL if asset.upper() in (COLLATERAL, "USDC", "PUSD") else asset
        self.ledger.set_balance(account_key(address), asset, amount)

    def balance(self, address: str, asset: str) -> Decimal:
        asset = COLLATERAL if asset.upper() in (COLLATERAL, "USDC", "PUSD") else asset
        return self.ledger.balance(account_key(address), asset)

    # ---- liquidity and orders ----------------------------------------------------------------

    def place_liquidity(
        self, token_id: str, side: Side, price: Decimal, size: Decimal, owner: str = "sim-mm"
    ) -> str:
        """Rest (or match) a GTC order for a simulated market maker with unlimited balance.

        A level a taker swept is refilled only after its refill delay (simulator.refill): until
        then `size` is cut by what is still missing there. Returns the order id, or "" when
        nothing could be placed yet.
        """
        self.ledger.mark_unlimited(owner)
        state = self._state_of_token(token_id)
        up_side, up_price = up_level(state.market.up_token_id, token_id, side, price)
        size = self._refill.allowed(state.market.condition_id, up_side, up_price, size, self.clock.now())
        if size <= 0:
            return ""
        order_id = f"0x{self._rng.getrandbits(256):064x}"
        req = OrderRequest(
            order_id, owner, token_id, side, price, size, "GTC", api_key=owner, maker_address=owner
        )
        self.submit(req)
        return order_id

    def batched(self) -> AbstractContextManager[None]:
        """Changes made inside the block reach the market channel as one net `price_change`."""
        return self._pub.hold()

    def cancel_owner_orders(self, owner: str, token_id: str | None = None) -> int:
        """Cancel an owner's resting orders, all or those on one token; returns how many."""
        account = account_key(owner)
        victims = [o for o in self.open_orders(account) if token_id is None or o.token_id == token_id]
        for order in victims:
            self._cancel(order, "CANCELED")
        self._flush_levels({self._token_market[o.token_id] for o in victims})
        return len(victims)

    def submit(self, req: OrderRequest) -> SubmitResult:
        """Check, match, settle and rest one order; raises VenueError with the venue's text."""
        state = self._state_of_token(req.token_id)
        self._check(req, state)
        unlimited = self.ledger.is_unlimited(req.account)
        self._seq += 1
        order = Order(
            id=req.order_id,
            account=req.account,
            token_id=req.token_id,
            is_up=req.token_id == state.market.up_token_id,
            side=req.side,
            price=req.price,
            original_size=req.size,
            order_type=req.order_type,
            api_key=req.api_key,
            maker_address=req.maker_address,
            expiration=req.expiration,
            created_at=int(self.clock.now().timestamp()),
            seq=self._seq,
        )
        max_size = None
        ratio = self.faults.partial_fill_ratio
        if ratio is not None and not unlimited:
            max_size = max(CENT, (req.size * ratio).quantize(CENT, rounding=ROUND_DOWN))
        check_fillable(req, state.book.crossable_size(order), max_size)
        self._store.add(order)
        fills = state.book.match(order, max_size)
        trades = [self._settle(state, f) for f in fills]
        making, taking = self._taker_amounts(order, trades)
        if order.remaining > 0 and req.order_type in ("GTC", "GTD"):
            state.book.rest(order)
            clearing.hold(self.ledger, order, order.remaining)
            self._store.rest(order)
        else:
            order.status = "MATCHED" if order.size_matched > 0 else "CANCELED"
        self._announce(state, order, trades)
        return SubmitResult(order, trades, making, taking)

    def _check(self, req: OrderRequest, state: MarketState) -> None:
        seen = req.order_id in self._store.orders
        check_order(req, state, self.ledger, self.config, self.clock.now(), seen)
        if self.faults.take("reject_order_count"):
            raise VenueError(self.faults.reject_status, self.faults.reject_message)

    def _settle(self, state: MarketState, fill: Fill) -> TradeRecord:
        """Clear one fill and record its trade, which then starts its chain lifecycle."""
        trade = clearing.settle_fill(
            self.ledger,
            state.market,
            fill,
            trade_id=self._new_uuid(),
            now_s=int(self.clock.now().timestamp()),
            fee_rate_bps=self.config.base_fee_bps if state.market.fee_rate else 0,
            will_fail=self.faults.take("fail_trade_count"),
        )
        accounts = [a for a in trade.accounts() if not self.ledger.is_unlimited(a)]
        self._store.add_trade(trade, accounts)
        fill.taker.trade_ids.append(trade.id)
        fill.maker.trade_ids.append(trade.id)
        self.lifecycle.start(trade)
        maker = fill.maker
        if self.ledger.is_unlimited(maker.account) and not self.ledger.is_unlimited(fill.taker.account):
            cid = state.market.condition_id
            self._refill.taken(cid, maker.book_side, maker.up_price, fill.size, self.clock.now())
        if maker.remaining == 0:
            self._forget_liquidity(maker)
        return trade

    def _forget_liquidity(self, order: Order) -> None:
        """Drop a finished market-maker order: it requotes all day, and nobody reads its history."""
        if self.ledger.is_unlimited(order.account):
            self._store.forget(order)

    def _taker_amounts(self, order: Order, trades: list[TradeRecord]) -> tuple[Decimal, Decimal]:
        shares = sum((t.size for t in trades), Decimal(0))
        cash = sum(((t.size * t.taker_price).quantize(MICRO) for t in trades), Decimal(0))
        return (cash, shares) if order.side == "BUY" else (shares, cash)

    # ---- cancels -----------------------------------------------------------------------------

    def cancel(self, account: str, order_ids: list[str]) -> tuple[list[str], dict[str, str]]:
        """Cancel an account's orders by id: (canceled ids, {id: reason not canceled})."""
        canceled: list[str] = []
        refused: dict[str, str] = {}
        touched: set[str] = set()
        for oid in order_ids:
            order = self._store.orders.get(oid)
            if (
                order is None
                or order.account != account
                or order.status in ("CANCELED", "CANCELED_MARKET_RESOLVED")
            ):
                refused[oid] = "Order not found or already canceled"
            elif order.status == "MATCHED":
                refused[oid] = "Order already matched"
            else:
                self._cancel(order, "CANCELED")
                canceled.append(oid)
                touched.add(self._token_market[order.token_id])
        self._flush_levels(touched)
        return canceled, refused

    def cancel_all(
        self, account: str, market: str = "", asset_id: str = ""
    ) -> tuple[list[str], dict[str, str]]:
        ids = [
            o.id
            for o in self.open_orders(account)
            if (not market or self._token_market[o.token_id] == market)
            and (not asset_id or o.token_id == asset_id)
        ]
        return self.cancel(account, ids)

    def _cancel(self, order: Order, status: str) -> None:
        state = self._state_of_token(order.token_id)
        if state.book.remove(order):
            clearing.release(self.ledger, order, order.remaining)
        order.status = status
        self._pub.order(state, order, "CANCELLATION", self._pub.now_ms())
        self._forget_liquidity(order)

    # ---- reads -------------------------------------------------------------------------------

    def book(self, token_id: str) -> Json:
        """The token's book as `GET /book` serves it (bids ascending, asks descending: best last)."""
        state = self._state_of_token(token_id)
        return state.book_body(token_id, self._pub.now_ms())

    def refill_at(self, token_id: str, side: Side, price: Decimal) -> datetime | None:
        """When simulated makers may quote `side` at `price` of `token_id` in full again (None: now)."""
        state = self._state_of_token(token_id)
        up_side, up_price = up_level(state.market.up_token_id, token_id, side, price)
        return self._refill.refill_at(state.market.condition_id, up_side, up_price, self.clock.now())

    def best(self, token_id: str) -> tuple[Decimal | None, Decimal | None]:
        return self._state_of_token(token_id).book.best_for(token_id)

    def last_trade(self, token_id: str) -> tuple[Decimal, str] | None:
        return self._state_of_token(token_id).last_trade.get(token_id)

    def order(self, order_id: str) -> Order | None:
        return self._store.orders.get(order_id)

    def open_orders(self, account: str) -> list[Order]:
        return self._store.open_orders(account)

    def trades_of(self, account: str) -> list[TradeRecord]:
        return self._store.trades_of(account)

    def trade(self, trade_id: str) -> TradeRecord | None:
        return self._store.trades.get(trade_id)

    # ---- time-driven work --------------------------------------------------------------------

    def pump(self, now: float | None = None) -> None:
        """Advance trade lifecycles, retire GTD orders, close ended markets, lapse heartbeats."""
        moment = time.monotonic() if now is None else now
        self.lifecycle.due(moment, self._on_trade_step)
        scenario_now = self.clock.now()
        # The venue's one-minute security threshold retires a GTD order a minute before `expiration`.
        expired = self._store.expired(int(scenario_now.timestamp()) + self.config.gtd_security_margin_s)
        for order in expired:
            self._cancel(order, "CANCELED")
        self._flush_levels({self._token_market[o.token_id] for o in expired})
        for state in self._markets.values():
            if not state.closed and scenario_now >= state.market.end:
                self.close_market(state.market.condition_id)
        for account in self._heartbeats.lapsed(moment):
            self.cancel_all(account)

    def heartbeat(self, account: str, heartbeat_id: str | None) -> str:
        """Keep a heartbeat session alive; a lapse cancels every open order of the account."""
        return self._heartbeats.beat(account, heartbeat_id, time.monotonic(), self._new_uuid)

    def _on_trade_step(self, trade: TradeRecord, status: str) -> None:
        trade.last_update = int(self.clock.now().timestamp())
        if status == "MINED":
            trade.transaction_hash = f"0x{self._rng.getrandbits(256):064x}"
        if status == "FAILED":
            clearing.reverse(self.ledger, trade)
        self._pub.trade(self._state(trade.market), trade, self._pub.now_ms())

    # ---- publishing --------------------------------------------------------------------------

    def _announce(self, state: MarketState, order: Order, trades: list[TradeRecord]) -> None:
        now_ms = self._pub.now_ms()
        self._pub.fills(state, order, trades, now_ms)
        if order.status == "LIVE":
            self._pub.order(state, order, "PLACEMENT", now_ms)
        if trades:
            self._pub.books(state, now_ms)
            self._pub.tops(state, now_ms)
            self._maybe_change_tick(state)
        else:
            self._flush_levels({state.market.condition_id})

    def _flush_levels(self, condition_ids: set[str]) -> None:
        self._pub.levels([self._markets[cid] for cid in sorted(condition_ids)])

    def _maybe_change_tick(self, state: MarketState) -> None:
        last = state.last_trade.get(state.market.up_token_id)
        if not self.config.auto_tick_change or last is None or state.tick <= FINE_TICK:
            return
        if last[0] > HIGH_TICK_EDGE or last[0] < LOW_TICK_EDGE:
            self.set_tick_size(state.market.condition_id, FINE_TICK)

    # ---- lookups -----------------------------------------------------------------------------

    def _new_uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _state(self, condition_id: str) -> MarketState:
        state = self._markets.get(condition_id)
        if state is None:
            raise VenueError(404, "market not found")
        return state

    def _state_of_token(self, token_id: str) -> MarketState:
        cid = self._token_market.get(token_id)
        if cid is None:
            raise VenueError(404, "No orderbook exists for the requested token id")
        return self._markets[cid]
