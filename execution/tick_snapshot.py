"""The executor's tick snapshot for the assertion runner: its rows (sinks.postgres.executor_records)
and, in LIVE, the venue's balances read through py-clob-client-v2; `core.tick_snapshot` decides."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import psycopg
from py_clob_client_v2.clob_types import AssetType, BalanceAllowanceParams

from core.assertions import TickSnapshot
from core.enums import TradingMode
from core.money import from_micros
from core.tick_snapshot import build_snapshot
from sinks.postgres.executor_records import read_allowed_instruments, read_executor_records

__all__ = ["BalanceReads", "ExecutorSnapshot"]


class BalanceReads(Protocol):
    def get_balance_allowance(self, params: Any = None) -> Any: ...


class ExecutorSnapshot:
    """`snapshot()` each tick: `venue` is read for the collateral and, in LIVE, our tokens' balances;
    `balance` is the executor's own balance source (the paper balance when there is no venue)."""

    def __init__(
        self,
        conn: psycopg.Connection,
        mode: TradingMode,
        clock: Callable[[], datetime],
        heartbeat: Callable[[], datetime | None],
        balance: Callable[[], Decimal],
        max_position_usd: Decimal,
        *,
        venue: BalanceReads | None = None,
        run_id: str | None = None,
    ) -> None:
        self._conn, self._mode, self._clock, self._heartbeat = conn, mode, clock, heartbeat
        self._balance, self._max, self._venue, self._run_id = balance, max_position_usd, venue, run_id

    def snapshot(self) -> TickSnapshot:
        records = read_executor_records(self._conn, self._mode, self._run_id)
        positions = None
        if self._mode is TradingMode.LIVE and self._venue is not None:
            tokens = {p.token_id for p in records.positions if not p.closed}
            positions = {t: self._token(t) for t in sorted(tokens)}
        return build_snapshot(
            self._clock(),
            self._mode,
            records,
            venue_positions=positions,
            venue_balance=self._balance(),
            allowed_instruments=read_allowed_instruments(self._conn),
            max_position_usd=self._max,
            heartbeat_at=self._heartbeat(),
        )

    def _token(self, token_id: str) -> Decimal:
        assert self._venue is not None
        answer = self._venue.get_balance_allowance(
            BalanceAllowanceParams(asset_type=AssetType.CONDITIONAL, token_id=token_id)
        )
        return from_micros(str(answer["balance"]))
