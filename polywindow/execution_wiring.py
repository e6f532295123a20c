"""The executor's composition: the mode picks the order builder, the balance and the fill source,
once, here; everything else is the same `OrderManager`. Construction only."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
from pydantic import SecretStr

from connectors.polymarket.clob import Venue
from core.enums import TradingMode
from core.execution_guards import Blocked, ExecutionLimits
from core.fees import FeeSchedule
from core.models import OrderIntent
from execution.fill_sources import (
    BookFills,
    SignedOrders,
    UnsignedOrders,
    VenueFills,
    context_book,
    venue_book,
)
from execution.order_manager import DEFAULT_LIMITS, OrderManager
from execution.user_confirmations import PushedOrders, UserChannelListener
from sinks.postgres.execution import ExecutionStore

__all__ = ["FixedMarket", "build_manager", "connect_venue", "user_confirmations"]


class FixedMarket:
    """Tick and fee schedule without a venue (BACKTEST): the recorded markets' own."""

    def __init__(self, tick: Decimal, schedule: FeeSchedule) -> None:
        self._info = (tick, schedule)

    def market_info(self, token_id: str) -> tuple[Decimal, FeeSchedule]:
        return self._info


def connect_venue(clob_url: str, private_key: SecretStr) -> Venue:
    """The venue account, its L2 credentials derived from the key (L1 then L2)."""
    venue = Venue(clob_url, private_key)
    venue.connect()
    return venue


def user_confirmations(
    venue: Venue, clob_url: str, user_ws_url: str | None, on_gap: Callable[[], None]
) -> UserChannelListener:
    """LIVE's user channel (its credentials the ones derived at `connect`), feeding the confirmation
    loop; not started. Its address: `user_ws_url`, else the CLOB's host at `/ws/user`."""
    url = user_ws_url or clob_url.rstrip("/").replace("https://", "wss://", 1).replace("http://", "ws://", 1)
    url = url if user_ws_url else f"{url}/ws/user"
    channel = venue.user_channel(url)
    return UserChannelListener(url, channel.subscribe_frames, PushedOrders(channel.api_key), on_gap)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _event_time(intent: OrderIntent | None) -> datetime:
    return intent.event_ts if intent is not None else datetime.now(UTC)


def build_manager(
    mode: TradingMode,
    conn: psycopg.Connection,
    *,
    venue: Venue | None = None,
    market: FixedMarket | None = None,
    paper_balance_usd: Decimal = Decimal(100),
    run_id: str | None = None,
    limits: ExecutionLimits = DEFAULT_LIMITS,
    confirm_s: float = 5.0,
    confirm_poll_s: float | None = 0.02,
    pushed: PushedOrders | None = None,
    startup_checks: Callable[[], None] = lambda: None,
    gate: Callable[[], Blocked | None] = lambda: None,
    now: Callable[[], datetime] = _utc_now,
) -> OrderManager:
    """LIVE, DRY_RUN and PAPER stamp with `now` (the system clock, or the simulator's scenario time);
    BACKTEST with each intent's event time."""
    store = ExecutionStore(conn, mode, run_id)

    def stamp(_intent: OrderIntent | None) -> datetime:
        return now()

    if mode in (TradingMode.LIVE, TradingMode.DRY_RUN, TradingMode.PAPER) and venue is None:
        raise ValueError(f"{mode.value} needs the venue")
    markets = venue if venue is not None else market
    if markets is None:
        raise ValueError("BACKTEST needs a market (tick and fee schedule)")

    def paper() -> Decimal:
        return paper_balance_usd + store.cash_delta()

    if mode is TradingMode.LIVE:
        assert venue is not None
        return OrderManager(
            mode,
            store,
            SignedOrders(venue),
            VenueFills(venue, confirm_s, confirm_poll_s, pushed=pushed),
            venue,
            venue.balance,
            stamp,
            limits,
            startup_checks,
            gate,
            prefetch_balance=True,
        )
    if mode is TradingMode.DRY_RUN:
        assert venue is not None
        return OrderManager(
            mode,
            store,
            SignedOrders(venue),
            BookFills(context_book),
            venue,
            venue.balance,
            stamp,
            limits,
            startup_checks,
            gate,
            prefetch_balance=True,
        )
    if mode is TradingMode.PAPER:
        assert venue is not None
        return OrderManager(
            mode,
            store,
            UnsignedOrders(),
            BookFills(venue_book(venue)),
            venue,
            paper,
            stamp,
            limits,
            startup_checks,
            gate,
        )
    return OrderManager(
        mode,
        store,
        UnsignedOrders(),
        BookFills(context_book),
        markets,
        paper,
        _event_time,
        limits,
        startup_checks,
        gate,
    )
