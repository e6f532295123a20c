"""A window whose step raised: it decides nothing more until it ends, and the rest of the flow goes on.

Without this, one bad input (or a strategy bug) in one window stops the whole live flow, and since a
restarted flow rebuilds its state from the same topics it would meet the same input and stop again.
Failing closed for that window only is the careful choice: no further signal or intent comes from
a window whose state can no longer be trusted, and the failure is reported once, with the input, on
the quarantine path (kept whole, so it can be replayed once the bug is fixed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import BaseModel

from core.enums import WindowPhase
from core.models import Quarantined, WindowEvent
from core.routing import Expire, WindowInput

__all__ = ["SOURCE", "FaultedWindow", "after_fault", "fault_report"]

SOURCE = "trading.window"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class FaultedWindow:
    """The state a window keeps after its step raised: only its end is still applied."""

    window_id: str
    reason: str


def after_fault(fault: FaultedWindow, item: WindowInput) -> FaultedWindow | None:
    """The faulted window's next state: dropped when the window ends (expired or resolved), so the
    flow forgets it like any other window; otherwise it stays faulted and ignores `item`."""
    if isinstance(item, Expire):
        return None
    if isinstance(item, WindowEvent) and item.phase is WindowPhase.RESOLVED:
        return None
    return fault


def _input_time(item: WindowInput) -> datetime:
    for name in ("recv_ts", "source_ts", "at"):
        value = getattr(item, name, None)
        if isinstance(value, datetime):
            return value
    return _EPOCH


def fault_report(
    window_id: str, item: WindowInput, error: BaseException
) -> tuple[FaultedWindow, Quarantined]:
    """The faulted state and the one quarantine entry that says which window stopped, on what input
    and why (the input kept whole)."""
    reason = (
        f"window {window_id} stopped deciding: its step raised {type(error).__name__}: {error}"
        f" on a {type(item).__name__}"
    )
    raw = item.model_dump_json().encode() if isinstance(item, BaseModel) else repr(item).encode()
    entry = Quarantined(source=SOURCE, reason=reason[:2000], raw=raw, recv_ts=_input_time(item))
    return FaultedWindow(window_id=window_id, reason=reason), entry
