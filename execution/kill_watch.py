"""The kill switch acted on by the executor, in every mode: each tick reads the `kill_switch` control
and, when an operator set FLATTEN or EMERGENCY (a setting not yet acted on: its level and time),
carries it out through `execution.kill_switch` with our held positions and open orders. FLATTEN
cancels our orders, exits every held position and goes back to PAUSE; EMERGENCY cancels every order
(the account's at the venue in LIVE; what is open in our records otherwise), exits what it can,
opens the circuit breaker and stops the executor taking intents (`accepting_intents` false) until
an operator restarts it. PAUSE itself is enforced at every entry (`ExecutorSafety.gate`). A FLATTEN
or EMERGENCY set while this executor ran is acted on even when another executor (of another mode)
carried it out first and set the control back to PAUSE: the control's audit trail shows it.

`exit_through` is the runner's `flatten`: the executor's one exit path (`ExitManager.flatten`), on
the bids the mode reads (the venue's book, or the replayed one), so every flatten's sell, fills,
position and audit entry are written like any exit's, in every mode.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal

import psycopg
import structlog

from core.enums import KillSwitch, TradingMode
from core.execution_guards import exit_client_order_id
from core.kill_switch import FlattenExit
from execution.exits import ExitManager
from execution.kill_switch import ExitResult, Flatten, KillReport, KillSwitchRunner
from sinks.postgres.executor_records import (
    kill_switch_sets_since,
    kill_switch_targets,
    last_audit_id,
    read_kill_switch,
)

__all__ = ["KillWatch", "exit_through"]

log = structlog.get_logger(__name__)
_ACTED = frozenset({KillSwitch.FLATTEN, KillSwitch.EMERGENCY})
_ZERO = Decimal(0)


def exit_through(
    exits: ExitManager,
    bids: Callable[[str], Mapping[Decimal, Decimal]],
    window_end: Callable[[str], datetime | None] = lambda _token: None,
) -> Flatten:
    """The kill switch's exit of one position through `exits`, reported in the fills' numbers."""

    def flatten(step: FlattenExit, switch: KillSwitch, now: datetime) -> ExitResult:
        try:
            book = bids(step.token_id)
        except Exception as exc:
            # The venue away: nothing is known of the bids, which is not an empty book. The position
            # stays MONITORING (its stop-loss and expiry still apply) and is reported not flattened.
            log.error("kill_switch.no_book", token_id=step.token_id, error=str(exc)[:200])
            return ExitResult(step.position_id, step.token_id, step.size, _ZERO, "", f"no book: {exc}"[:300])
        after = exits.flatten(
            step.position_id, step.token_id, book, now, window_end(step.token_id), switch.value
        )
        if after is None:
            return ExitResult(step.position_id, step.token_id, step.size, _ZERO, "", "not MONITORING")
        stored = exits.store.order(exit_client_order_id(step.position_id))
        venue_id = stored.venue_order_id if stored is not None else ""
        detail = f"held to resolution: {after.hold_reason}" if stored is None else stored.state.status.value
        return ExitResult(step.position_id, step.token_id, step.size, after.exit_size, venue_id, detail)

    return flatten


class KillWatch:
    def __init__(
        self,
        conn: psycopg.Connection,
        mode: TradingMode,
        runner: KillSwitchRunner,
        clock: Callable[[], datetime],
        run_id: str | None = None,
    ) -> None:
        self._conn, self._mode, self._runner, self._clock = conn, mode, runner, clock
        self._run_id = run_id
        self._done: tuple[KillSwitch, datetime | None] | None = None
        self._seen = last_audit_id(conn)  # settings from before the start: the control's value says
        self.accepting_intents = True
        self.reports: list[KillReport] = []

    def run(self) -> KillReport | None:
        level, set_at = read_kill_switch(self._conn)
        # Executors of other modes share the control: the first to carry out a FLATTEN sets it back
        # to PAUSE, maybe before this one read it. The audit trail of the control still shows it.
        self._seen, audited = kill_switch_sets_since(self._conn, self._seen)
        asked = level if level in _ACTED and self._done != (level, set_at) else audited
        if KillSwitch.EMERGENCY in (level, asked):
            self.accepting_intents = False
        if asked is None:
            return None
        positions, orders = kill_switch_targets(self._conn, self._mode, self._run_id)
        report = self._runner.carry_out(asked, positions, orders, self._clock())
        self._done = (level, set_at)
        self.reports.append(report)
        log.warning(
            "execute.kill_switch",
            level=asked.value,
            canceled=len(report.canceled),
            exits=[(e.position_id, str(e.sold)) for e in report.exits],
        )
        return report
