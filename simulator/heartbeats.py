"""Heartbeat sessions: an account that stops beating has its open orders canceled (POST /heartbeats)."""

from __future__ import annotations

from collections.abc import Callable

from simulator.protocol import VenueError


class Heartbeats:
    """The current heartbeat id of each account and when (monotonic seconds) it last beat."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._sessions: dict[str, tuple[str, float]] = {}

    def beat(self, account: str, heartbeat_id: str | None, now: float, new_id: Callable[[], str]) -> str:
        """Renew the session under a fresh id; an id other than the current one is refused.

        `new_id` is called only when the beat is accepted.
        """
        current = self._sessions.get(account)
        if current is not None and heartbeat_id and heartbeat_id != current[0]:
            raise VenueError(400, "Invalid Heartbeat ID", heartbeat_id=current[0])
        fresh = new_id()
        self._sessions[account] = (fresh, now)
        return fresh

    def lapsed(self, now: float) -> list[str]:
        """End and return the sessions silent for longer than the timeout."""
        gone = [a for a, (_, seen) in self._sessions.items() if now - seen > self.timeout_s]
        for account in gone:
            del self._sessions[account]
        return gone
