"""Discovery's memory of windows: the phase emitted per window, the windows found invalid, and when
each may be forgotten.

Discovery asks Gamma for the slugs of the last `back` windows, the current one and the next, so a
window's slug stops being asked for once `back + 1` intervals have passed since its start. Until
then its entry must stay (or a RESOLVED window still listed would be emitted again); after that
nothing can bring it back, so it is dropped, resolved or not. `expire(now)` returns the windows
dropped, so the caller can drop what it keeps for them too (followed tokens and markets).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from core.enums import WindowPhase, phase_rank
from core.models import WindowEvent

_TRADEABLE = (WindowPhase.DISCOVERED, WindowPhase.OPEN)


def forget_at(window: WindowEvent, back: int) -> datetime:
    """When `window` leaves the range of slugs discovery asks for."""
    return window.start_ts + timedelta(seconds=(back + 1) * window.interval_s)


class WindowPhases:
    """Phase per window and invalid windows, each kept until `forget_at` and no longer."""

    def __init__(self, back: int) -> None:
        if back < 0:
            raise ValueError(f"back must be >= 0, got {back}")
        self.back = back
        self.phases: dict[str, WindowPhase] = {}
        self.invalid: dict[str, WindowEvent] = {}
        self._latest: dict[str, WindowEvent] = {}

    def is_news(self, event: WindowEvent) -> bool:
        """A window not marked invalid, never seen, or seen in an earlier phase."""
        if event.window_id in self.invalid:
            return False
        known = self.phases.get(event.window_id)
        return known is None or phase_rank(event.phase) > phase_rank(known)

    def needs_token_check(self, event: WindowEvent) -> bool:
        """First sight of a window that can still be traded: its tokens must exist on the CLOB."""
        return event.window_id not in self.phases and event.phase in _TRADEABLE

    def emitted(self, event: WindowEvent) -> None:
        self.phases[event.window_id] = event.phase
        self._latest[event.window_id] = event

    def mark_invalid(self, event: WindowEvent) -> None:
        self.invalid[event.window_id] = event

    def expire(self, now: datetime) -> list[WindowEvent]:
        """Drop every window out of the asked range at `now`; returns their latest events (valid ones)."""
        gone = [e for e in self._latest.values() if forget_at(e, self.back) <= now]
        for event in gone:
            del self.phases[event.window_id]
            del self._latest[event.window_id]
        for window_id in [w for w, e in self.invalid.items() if forget_at(e, self.back) <= now]:
            del self.invalid[window_id]
        return gone

    def __len__(self) -> int:
        return len(self.phases) + len(self.invalid)
