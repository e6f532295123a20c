"""The executor's kill switch and redemptions in every mode: the mode picks, once, here, only what
touches the venue (cancels, the bids an exit is planned on, how a payout arrives); the rest is the
same code (`execution.kill_watch`, `execution.redemptions`, the order manager's exit path).
Construction only."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal

import psycopg
from pydantic import SecretStr

from connectors.polymarket.clob import Venue
from core.enums import TradingMode
from execution.exits import ExitManager
from execution.fill_sources import (
    RecordCancels,
    VenueCancels,
    chain_redeem,
    paper_redeem,
    venue_bids,
)
from execution.kill_switch import Cancels, KillSwitchRunner
from execution.kill_watch import KillWatch, exit_through
from execution.order_manager import OrderManager
from execution.redeem import ChainRpc, Redeemer
from execution.redemptions import RedemptionSweep
from sinks.postgres.executor_records import kill_switch_targets

__all__ = ["build_kill_watch", "build_redemptions"]

Bids = Callable[[str], Mapping[Decimal, Decimal]]


def build_kill_watch(
    conn: psycopg.Connection,
    manager: OrderManager,
    exits: ExitManager,
    clock: Callable[[], datetime],
    *,
    venue: Venue | None,
    book_bids: Bids,
    window_end: Callable[[str], datetime | None],
    run_id: str | None = None,
    actor: str = "execute",
) -> KillWatch:
    """LIVE cancels at the venue; the others in their own records. Exits are planned on the venue's
    book now (LIVE, DRY_RUN, PAPER) or the replayed one the monitor keeps (BACKTEST)."""
    mode = manager.mode
    cancels: Cancels
    if mode is TradingMode.LIVE:
        assert venue is not None
        cancels = VenueCancels(venue.client)
    else:
        cancels = RecordCancels(
            lambda: [o.venue_order_id for o in kill_switch_targets(conn, mode, run_id)[1]]
        )
    bids = venue_bids(venue) if venue is not None and mode is not TradingMode.BACKTEST else book_bids
    runner = KillSwitchRunner(
        cancels, exit_through(exits, bids, window_end), conn, actor, settle=manager.recover
    )
    return KillWatch(conn, mode, runner, clock, run_id)


def build_redemptions(
    conn: psycopg.Connection,
    mode: TradingMode,
    exits: ExitManager,
    clock: Callable[[], datetime],
    *,
    venue: Venue | None,
    private_key: SecretStr | None,
    rpc_url: str,
    run_id: str | None = None,
) -> RedemptionSweep | None:
    """LIVE redeems on chain (None without a key: nothing can be signed); the others credit the
    paper payout at once."""
    if mode is not TradingMode.LIVE:
        return RedemptionSweep(conn, mode, exits, paper_redeem, clock, mark_collateral=False, run_id=run_id)
    if venue is None or private_key is None:
        return None
    redeemer = Redeemer(ChainRpc(rpc_url), private_key, venue.client)
    return RedemptionSweep(conn, mode, exits, chain_redeem(redeemer), clock)
