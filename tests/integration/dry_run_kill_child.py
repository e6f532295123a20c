"""A DRY_RUN executor that is SIGKILLed at the worst point for a simulated order: after the order is
stored (SUBMITTED, with its payload and the book its decision saw) and before the book is walked.

Run as `python -m tests.integration.dry_run_kill_child DATABASE_URL CLOB_URL` with the intent's JSON
on stdin and the key in POLY_PRIVATE_KEY. The order manager is the real one, built as `polywindow
execute --mode DRY_RUN` builds it; only its fill source kills the process when asked to place.
"""

from __future__ import annotations

import os
import signal
import sys
from decimal import Decimal
from typing import NoReturn

import psycopg
from pydantic import SecretStr

from core.enums import TradingMode
from core.fees import FeeSchedule
from core.models import OrderIntent
from execution.order_manager import BuiltOrder
from polywindow.execution_wiring import build_manager, connect_venue


class _KilledWhilePlacing:
    def place(self, intent: OrderIntent, built: BuiltOrder, tick: Decimal, schedule: FeeSchedule) -> NoReturn:
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")

    def resume(self, stored: object, schedule: FeeSchedule) -> NoReturn:
        raise AssertionError("a fresh database has nothing to resume")


def main() -> None:
    database_url, clob_url = sys.argv[1], sys.argv[2]
    intent = OrderIntent.model_validate_json(sys.stdin.read())
    venue = connect_venue(clob_url, SecretStr(os.environ["POLY_PRIVATE_KEY"]))
    with psycopg.connect(database_url, autocommit=True) as conn:
        manager = build_manager(TradingMode.DRY_RUN, conn, venue=venue)
        manager.fills = _KilledWhilePlacing()
        manager.execute(intent)


if __name__ == "__main__":
    main()
