"""One active trader (DESIGN.md "Safety", seed 0.4): a PostgreSQL advisory lock plus a heartbeat row.

The guard is a session-level advisory lock held by one dedicated connection: PostgreSQL itself
releases it when that session ends, so a trader that crashes (or whose connection is killed) loses
it without anyone cleaning up. The `instance_lock` row beside it is what a refused instance reads to
say who holds the lock, since when and when the holder last beat; it is informational only: a row
left by a crashed holder is overwritten by the next instance that gets the advisory lock.

The lock is also a lease: the locking session is ended by the server once it has been idle for
`lease_s` (PostgreSQL's `idle_session_timeout`), so a trader that hangs without dying loses the lock
too, and TCP keepalives end a session whose client vanished from the network. A holder must beat
more often than its lease, and before sending an order (one round trip).

Use: `acquire(now)` (raises `LockRefused` naming the holder), `beat(now)` every few seconds (raises
`LockLost` when the session, and with it the lock, is gone: stop trading at once), `release()` on a
clean stop. Times are passed in (UTC, tz-aware).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import TracebackType

import psycopg
from psycopg.conninfo import make_conninfo

__all__ = ["LockHolder", "LockLost", "LockRefused", "TraderLock"]

_NAMESPACE = "polywindow.trader."
_TRY = "SELECT pg_try_advisory_lock(hashtext(%s))"
_LEASE = "SELECT set_config('idle_session_timeout', %s, false)"
_UNLOCK = "SELECT pg_advisory_unlock(hashtext(%s))"
_CLAIM = (
    "INSERT INTO instance_lock (name, holder, acquired_at, heartbeat_at) VALUES (%s, %s, %s, %s)"
    " ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder,"
    " acquired_at = EXCLUDED.acquired_at, heartbeat_at = EXCLUDED.heartbeat_at"
)
_BEAT = "UPDATE instance_lock SET heartbeat_at = %s WHERE name = %s AND holder = %s"
_FORGET = "DELETE FROM instance_lock WHERE name = %s AND holder = %s"
_READ = "SELECT holder, acquired_at, heartbeat_at FROM instance_lock WHERE name = %s"


@dataclass(frozen=True, slots=True)
class LockHolder:
    holder: str
    since: datetime
    last_heartbeat: datetime


class LockRefused(RuntimeError):
    """Another instance holds the trader lock: this one must not trade."""

    def __init__(self, name: str, holder: LockHolder | None) -> None:
        self.holder = holder
        if holder is None:
            text = f"trader lock {name!r} is held by another session (no holder row yet)"
        else:
            text = (
                f"trader lock {name!r} is held by {holder.holder} since {holder.since.isoformat()}"
                f", last heartbeat {holder.last_heartbeat.isoformat()}"
            )
        super().__init__(text + ": this instance will not trade")


class LockLost(RuntimeError):
    """The session that held the lock is gone (connection killed, server restarted): stop trading."""


class TraderLock:
    """The single-trader lock for `name`, taken for `holder` (say host:pid:mode) on `conninfo`."""

    def __init__(self, conninfo: str, holder: str, name: str = "trader", lease_s: float = 30.0) -> None:
        if lease_s <= 0:
            raise ValueError(f"lease_s must be positive: {lease_s}")
        self._conninfo = conninfo
        self.holder = holder
        self.name = name
        self.lease_s = lease_s
        self._conn: psycopg.Connection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def acquire(self, now: datetime) -> None:
        """Take the lock or raise `LockRefused` saying who has it."""
        if self._conn is not None:
            return
        conninfo = make_conninfo(
            self._conninfo,
            application_name=f"trader-lock:{self.holder}",
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=2,
            keepalives_count=3,
        )
        conn = psycopg.connect(conninfo, autocommit=True)
        try:
            conn.execute(_LEASE, (f"{int(self.lease_s * 1000)}ms",))
            row = conn.execute(_TRY, (_NAMESPACE + self.name,)).fetchone()
            if row is None or not row[0]:
                raise LockRefused(self.name, self.current_holder(conn))
            conn.execute(_CLAIM, (self.name, self.holder, now, now))
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def beat(self, now: datetime) -> None:
        """Record a heartbeat through the locking session itself: if it answers, the lock is still ours."""
        conn = self._conn
        if conn is None:
            raise LockLost(f"trader lock {self.name!r} is not held by {self.holder}")
        try:
            cur = conn.execute(_BEAT, (now, self.name, self.holder))
        except psycopg.Error as exc:
            self._drop()
            raise LockLost(f"trader lock {self.name!r} lost with its session: {exc}") from exc
        if cur.rowcount != 1:
            raise LockLost(f"trader lock {self.name!r}: the holder row no longer names {self.holder}")

    def release(self) -> None:
        """Give the lock up on a clean stop (a crash gives it up with the session)."""
        conn = self._conn
        if conn is None:
            return
        try:
            conn.execute(_FORGET, (self.name, self.holder))
            conn.execute(_UNLOCK, (_NAMESPACE + self.name,))
        except psycopg.Error:
            pass  # the session is gone: so is the lock
        finally:
            self._drop()

    def current_holder(self, conn: psycopg.Connection | None = None) -> LockHolder | None:
        """What the `instance_lock` row says (None when there is no row)."""
        if conn is None:
            with psycopg.connect(self._conninfo, autocommit=True) as own:
                return self.current_holder(own)
        row = conn.execute(_READ, (self.name,)).fetchone()
        return None if row is None else LockHolder(row[0], row[1], row[2])

    def backend_pid(self) -> int | None:
        """The PostgreSQL backend holding the lock (for operators and tests)."""
        return None if self._conn is None else self._conn.info.backend_pid

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> TraderLock:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
