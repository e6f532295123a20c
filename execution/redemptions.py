"""Won positions redeemed after resolution, in every mode: the payout through the mode's `redeem`
(LIVE: the on-chain redeem, execution.redeem, the amount read from the venue's balance; the
simulated modes: the shares, no on-chain call: `execution.fill_sources`), then the position CLOSED
with its payout (execution.exits; the paper balance counts it) and, in LIVE, the reconciliation's
collateral mark moved by what arrived, once the payout is in the balance.

`RedemptionSweep.run()` is called on the executor's tick. Positions are taken by market and token:
one redeem pays every share of the account on that token, so the positions close together when the
balance rose by their shares (1 a share); a redeem the venue refuses yet (the result not received)
is tried again on a later tick; a payout that differs from the shares closes nothing and is logged
(reconciliation and the assertions then see the balance the operator must look at).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

import psycopg
import structlog

from core.enums import TradingMode
from execution.exits import ExitManager
from execution.fill_sources import Redeem
from execution.reconcile import add_to_collateral_mark
from execution.redeem import RedeemFailed
from sinks.postgres.executor_records import WonPosition, won_unredeemed

__all__ = ["RedemptionSweep"]

log = structlog.get_logger(__name__)


class RedemptionSweep:
    def __init__(
        self,
        conn: psycopg.Connection,
        mode: TradingMode,
        exits: ExitManager,
        redeem: Redeem,
        clock: Callable[[], datetime],
        *,
        mark_collateral: bool = True,
        run_id: str | None = None,
    ) -> None:
        self._conn, self._mode, self._exits, self._redeem, self._clock = conn, mode, exits, redeem, clock
        self._mark_collateral = mark_collateral
        self._run_id = run_id
        self.closed = 0

    def run(self) -> int:
        """Redeem what is due; returns how many positions closed."""
        due: dict[tuple[str, str], list[WonPosition]] = defaultdict(list)
        for won in won_unredeemed(self._conn, self._mode, self._run_id):
            due[(won.condition_id, won.token_id)].append(won)
        closed = 0
        for (condition_id, token_id), positions in due.items():
            shares = sum((p.size for p in positions), Decimal(0))
            try:
                paid = self._redeem(condition_id, token_id, shares)
            except RedeemFailed as exc:
                log.info("execute.redeem_later", condition_id=condition_id, reason=str(exc)[:200])
                continue
            now = self._clock()
            if paid == shares:
                for p in positions:
                    self._exits.on_redeemed(
                        p.position_id, p.window_id, p.token_id, p.strategy, p.opened_at, now
                    )
                    closed += 1
            else:
                log.error(
                    "execute.redeem_mismatch",
                    condition_id=condition_id,
                    paid=str(paid),
                    shares=str(shares),
                )
            if paid > 0 and self._mark_collateral:  # after the positions: a crash between leaves a mismatch
                add_to_collateral_mark(self._conn, self._mode, paid, now)
        self.closed += closed
        return closed
