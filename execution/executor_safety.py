"""The executor's safety net, wired around its loop (issues 12 and 13): an adapter over the parts.

- `start()` before anything is sent (the order manager's start-up hook): the trader lock is taken
  (`LockRefused` names the holder: this instance must not trade), then in LIVE the collateral
  allowance is checked (`CollateralNotReady` says what is missing).
- `reconcile()` once the orders a previous run left are settled and before any intent is taken:
  LIVE's rows against the venue, its repairs applied; a mismatch opens the circuit breaker
  (execution.reconcile). Again every `reconcile_s` on the loop, and at the next tick after
  `reconcile_soon()` (the user channel reconnected after a gap: events may have been missed).
- `gate()` before every entry: while the breaker is open (its latest `breaker_events` row, which an
  operator's reset closes) the entry is refused with the cause; so is it while the kill switch is
  at PAUSE, FLATTEN or EMERGENCY (the control read at that moment, `core.execution_guards.
  kill_switch_gate`), in every mode. The order manager audits the refusal and the intent's offset is
  committed: it is decided, not retried later.
- `tick()` on every turn of the executor's loop: the lock beaten every `beat_s` (`LockLost` ends
  trading); every `assert_s` the runtime assertions run (execution.assertion_runner).
- the venue heartbeat (LIVE's dead-man switch, execution.venue_heartbeat) is held while any order
  of ours may rest: turned on in `gate()` before an entry can be posted and at start when a previous
  run left orders unsettled, and set each tick from the orders' rows (off once nothing may rest).
- the kill switch's FLATTEN and EMERGENCY carried out on the same cadence, in every mode
  (execution.kill_watch; the mode chose its cancels and bids).
- won positions redeemed on the same cadence, in every mode (execution.redemptions: on chain in
  LIVE, credited to the paper payout otherwise), so a payout is booked and its position CLOSED once
  it is in the balance.
- `stop()` gives the lock up on a clean stop and stops beating.
Times come from `clock`; intervals from `monotonic`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import psycopg
import structlog

from core.execution_guards import Blocked, kill_switch_gate
from core.reconciliation import Reconciliation
from execution.assertion_runner import AssertionRunner
from execution.collateral_check import AllowanceReads, check_collateral_ready
from execution.reconcile import Reconciler
from execution.trader_lock import TraderLock
from execution.venue_heartbeat import VenueHeartbeat
from sinks.postgres.executor_records import read_kill_switch
from sinks.postgres.safety import read_breaker

__all__ = ["ExecutorSafety"]

log = structlog.get_logger(__name__)


class ExecutorSafety:
    def __init__(
        self,
        conn: psycopg.Connection,
        clock: Callable[[], datetime],
        *,
        lock: TraderLock | None = None,
        reconciler: Reconciler | None = None,
        allowance: AllowanceReads | None = None,
        assertions: AssertionRunner | None = None,
        heartbeat: VenueHeartbeat | None = None,
        may_rest: Callable[[], bool] = lambda: False,
        redeem: Callable[[], object] | None = None,
        kill: Callable[[], object] | None = None,
        confirm: Callable[[], object] | None = None,
        beat_s: float = 5.0,
        assert_s: float = 1.0,
        reconcile_s: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if lock is not None and beat_s >= lock.lease_s:
            raise ValueError(
                f"the lock must be beaten more often ({beat_s} s) than its lease ({lock.lease_s} s)"
            )
        self._conn = conn
        self._clock = clock
        self.lock = lock
        self._reconciler = reconciler
        self._allowance = allowance
        self.assertions = assertions
        self.heartbeat = heartbeat
        self._may_rest = may_rest
        self.redeem = redeem
        self.kill = kill
        self.confirm = confirm
        """UNKNOWN orders the user channel has since spoken about, settled (the order manager's)."""
        self._beat_s = beat_s
        self._assert_s = assert_s
        self._reconcile_s = reconcile_s
        self._monotonic = monotonic
        self._beaten = self._asserted = float("-inf")
        self._reconciled = monotonic()
        self._reconcile_due = False
        self.heartbeat_at: datetime | None = None
        """When the executor last showed it is alive (the lock's last beat; without a lock, its loop)."""

    def start(self) -> None:
        if self.lock is not None:
            self.heartbeat_at = self._clock()
            self.lock.acquire(self.heartbeat_at)
            self._beaten = self._monotonic()
        if self._allowance is not None:
            balance = check_collateral_ready(self._allowance)
            log.info("execute.collateral_ready", balance=str(balance))
        if self.heartbeat is not None:
            self.heartbeat.start()
            self.heartbeat.set_resting(self._may_rest())  # before recovery re-posts anything

    def reconcile(self) -> Reconciliation | None:
        if self._reconciler is None:
            return None
        self._reconciled, self._reconcile_due = self._monotonic(), False
        result = self._reconciler.run(self._clock())
        if not result.clean:
            log.error("execute.reconciliation_mismatch", cause=result.cause)
        return result

    @property
    def reconciler(self) -> Reconciler | None:
        return self._reconciler

    def reconcile_soon(self) -> None:
        """Reconcile at the next tick (called from any thread: a user-channel gap has ended)."""
        self._reconcile_due = True

    def gate(self) -> Blocked | None:
        breaker = read_breaker(self._conn)
        if breaker.open:
            since = breaker.since.isoformat() if breaker.since else "?"
            return Blocked("breaker_open", f"circuit breaker open since {since}: {breaker.cause}"[:1000])
        paused = kill_switch_gate(read_kill_switch(self._conn)[0])
        if paused is not None:
            return paused
        if self.heartbeat is not None:
            self.heartbeat.set_resting(True)  # the entry may rest once posted: beat first
        return None

    def tick(self) -> None:
        now = self._monotonic()
        if self.lock is None:
            self.heartbeat_at = self._clock()
        elif now - self._beaten >= self._beat_s:
            at = self._clock()
            self.lock.beat(at)  # LockLost propagates: the executor stops trading
            self._beaten, self.heartbeat_at = now, at
        if now - self._asserted >= self._assert_s:
            self._asserted = now
            if self.heartbeat is not None:
                heartbeat = self.heartbeat
                self._guarded("heartbeat", lambda: heartbeat.set_resting(self._may_rest()))
            # The kill switch first (an operator's FLATTEN or EMERGENCY goes before anything else),
            # then redemptions (a payout in the balance is booked before the assertions compare it).
            steps = (("kill_switch", self.kill), ("redeem", self.redeem), ("confirm", self.confirm))
            for name, step in steps:
                if step is not None:
                    self._guarded(name, step)
            if self.assertions is not None:
                self._guarded("assertions", self.assertions.tick)
        if self._reconciler is not None and (
            self._reconcile_due or now - self._reconciled >= self._reconcile_s
        ):
            self._guarded("reconcile", self.reconcile)

    @staticmethod
    def _guarded(name: str, step: Callable[[], object]) -> None:
        """A step that failed (the venue or the database away) is logged and tried at the next tick;
        the loop goes on (a lost lock is the one failure that stops it)."""
        try:
            step()
        except Exception as exc:
            log.error(
                "execute.safety_step_failed", step=name, error=f"{type(exc).__name__}: {str(exc)[:300]}"
            )

    def stop(self) -> None:
        if self.heartbeat is not None:
            self.heartbeat.stop()
        if self.lock is not None:
            self.lock.release()
