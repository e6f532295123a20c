"""The kill switch acted on by the executor (LIVE): each tick reads the `kill_switch` control and, when
an operator set FLATTEN or EMERGENCY (a setting not yet acted on: its level and time), carries it
out at the venue through `execution.kill_switch` with our held positions and the orders the venue
may still hold. FLATTEN cancels our orders, sells every held position and goes back to PAUSE;
EMERGENCY cancels every order of the account, sells what it can, opens the circuit breaker and stops
the executor taking intents (`accepting_intents` false) until it is restarted by an operator.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import psycopg
import structlog

from core.enums import KillSwitch, TradingMode
from execution.kill_switch import KillReport, KillSwitchRunner
from sinks.postgres.executor_records import kill_switch_targets, read_kill_switch

__all__ = ["KillWatch"]

log = structlog.get_logger(__name__)
_ACTED = frozenset({KillSwitch.FLATTEN, KillSwitch.EMERGENCY})


class KillWatch:
    def __init__(
        self,
        conn: psycopg.Connection,
        mode: TradingMode,
        runner: KillSwitchRunner,
        clock: Callable[[], datetime],
    ) -> None:
        self._conn, self._mode, self._runner, self._clock = conn, mode, runner, clock
        self._done: tuple[KillSwitch, datetime | None] | None = None
        self.accepting_intents = True
        self.reports: list[KillReport] = []

    def run(self) -> KillReport | None:
        level, set_at = read_kill_switch(self._conn)
        if level is KillSwitch.EMERGENCY:
            self.accepting_intents = False
        if level not in _ACTED or self._done == (level, set_at):
            return None
        positions, orders = kill_switch_targets(self._conn, self._mode)
        report = self._runner.carry_out(level, positions, orders, self._clock())
        self._done = (level, set_at)
        self.reports.append(report)
        log.warning(
            "execute.kill_switch",
            level=level.value,
            canceled=len(report.canceled),
            exits=[(e.position_id, str(e.sold)) for e in report.exits],
        )
        return report
