"""Won positions redeemed after resolution (LIVE): the on-chain redeem (execution.redeem), then the
position CLOSED with its payout (execution.exits) and the reconciliation's collateral mark moved by
what arrived, once the payout is in the balance.

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
from execution.reconcile import add_to_collateral_mark
from execution.redeem import Redeemer, RedeemFailed
from sinks.postgres.executor_records import WonPosition, won_unredeemed

__all__ = ["RedemptionSweep"]

log = structlog.get_logger(__name__)


class RedemptionSweep:
    def __init__(
        self,
        conn: psycopg.Connection,
        mode: TradingMode,
        exits: ExitManager,
        redeemer: Redeemer,
        clock: Callable[[], datetime],
    ) -> None:
        self._conn, self._mode, self._exits, self._redeemer, self._clock = conn, mode, exits, redeemer, clock
        self.closed = 0

    def run(self) -> int:
        """Redeem what is due; returns how many positions closed."""
        due: dict[tuple[str, str], list[WonPosition]] = defaultdict(list)
        for won in won_unredeemed(self._conn, self._mode):
            due[(won.condition_id, won.token_id)].append(won)
        closed = 0
        for (condition_id, token_id), positions in due.items():
            try:
                receipt = self._redeemer.redeem(condition_id, token_id)
            except RedeemFailed as exc:
                log.info("execute.redeem_later", condition_id=condition_id, reason=str(exc)[:200])
                continue
            shares = sum((p.size for p in positions), Decimal(0))
            now = self._clock()
            if receipt.paid == shares:
                for p in positions:
                    self._exits.on_redeemed(
                        p.position_id, p.window_id, p.token_id, p.strategy, p.opened_at, now
                    )
                    closed += 1
            else:
                log.error(
                    "execute.redeem_mismatch",
                    condition_id=condition_id,
                    paid=str(receipt.paid),
                    shares=str(shares),
                )
            if receipt.paid > 0:  # after the positions: a crash between leaves a mismatch to look at
                add_to_collateral_mark(self._conn, self._mode, receipt.paid, now)
        self.closed += closed
        return closed
