"""The one control service (STYLE habit 12): every door (API routes, `polywindow controls`, the
dashboard through the API) changes controls and resets the breaker here.

A change is validated by core (core.control_values), written to `runtime_controls` with its audit
row in one transaction, then published on `ctl.controls`. The table is the truth: a publish that
fails is reported (the flows read the table every tick anyway), never undone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog
from psycopg_pool import ConnectionPool

from core.breaker import Breaker, reset
from core.control_values import canonical
from core.models import ControlChange, Event
from sinks.postgres.assertion_table import lock_breaker, read_breaker
from sinks.postgres.control_table import write_control
from sinks.postgres.safety import close_breaker

__all__ = ["ControlService", "Outcome"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    name: str
    value: str
    previous: str | None
    published: bool
    at: datetime


class ControlService:
    def __init__(
        self, pool: ConnectionPool, publish: Callable[[str, Event], None], now: Callable[[], datetime]
    ) -> None:
        self._pool, self._publish, self._now = pool, publish, now

    def set_control(self, name: str, value: str, who: str, why: str) -> Outcome:
        """Set one control (ValueError naming the problem for a bad name or value)."""
        control = canonical(name, value)
        at = self._now()
        change = ControlChange(
            name=control.name, value=control.text, updated_by=who, updated_at=at, reason=why
        )
        with self._pool.connection() as conn:
            previous = write_control(conn, control, change)
        published = self._send("ctl.controls", change)
        return Outcome(control.name.value, control.text, previous, published, at)

    def breaker(self) -> Breaker:
        with self._pool.connection() as conn:
            return read_breaker(conn)

    def reset_breaker(self, who: str, why: str) -> Outcome:
        """Close the open breaker (core.breaker.InvalidTransition when it is not open)."""
        at = self._now()
        with self._pool.connection() as conn, conn.transaction():
            lock_breaker(conn)  # two resets at once: the second finds it closed (409)
            held = read_breaker(conn)
            closed, change = reset(held, f"{who}: {why}", at)
            close_breaker(conn, who, why, at)
        published = self._send("ops.assertions", change)
        return Outcome("circuit_breaker", closed.state.value, held.state.value, published, at)

    def _send(self, topic: str, event: Event) -> bool:
        try:
            self._publish(topic, event)
        except Exception as exc:  # the table holds the change; the topic copy is a convenience
            log.error("controls.publish_failed", topic=topic, error=f"{type(exc).__name__}: {str(exc)[:200]}")
            return False
        return True
