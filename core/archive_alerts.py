"""What an archive loss means for the operator: the CRITICAL alerts the recorder raises. Pure: the
recorder finds the loss (offsets, cluster ids, archived times) and acts on the alert it gets back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from core.enums import Severity
from core.models import Alert


def offsets_lost_alert(topic: str, partition: int, first: int, end: int, why: str, at: datetime) -> Alert:
    """Offsets [first, end) of a partition will never be archived."""
    return Alert(
        alert_kind="archive.offsets_lost",
        severity=Severity.CRITICAL,
        message=f"archive gap: {topic}[{partition}] offsets {first}..{end - 1} lost ({why})",
        dedupe_key=f"{topic}:{partition}:{first}:{end}",
        event_ts=at,
    )


def broker_reset_alert(known: str, cluster: str, newest: Mapping[str, datetime], at: datetime) -> Alert:
    """The broker's log was reset (its cluster id changed): what it held unarchived is gone; the hole
    starts after the newest archived receive time of each topic."""
    since = ", ".join(f"{t} after {ts.isoformat()}" for t, ts in sorted(newest.items()))
    return Alert(
        alert_kind="archive.broker_reset",
        severity=Severity.CRITICAL,
        message=(
            f"archive gap: the broker's log was reset (cluster {known} -> {cluster}); records it held "
            f"that were not yet archived are lost ({since or 'nothing archived yet'}); events produced "
            "while it was away are counted by their producers as delivery failures"
        ),
        dedupe_key=f"{known}->{cluster}",
        event_ts=at,
    )
