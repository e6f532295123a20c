"""What a failed Kafka delivery means for the operator: a counted, named failure and one alert.

The producer only reports failures; deciding how they are summarised and how loud they are lives
here, pure, so the feeds process and any other producer-owning process alert the same way.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.enums import Severity
from core.models import Alert


@dataclass(frozen=True, slots=True)
class DeliveryFailure:
    """One event the broker did not accept: the topic it was for and the client's reason."""

    topic: str
    reason: str


def delivery_counts(failures: Sequence[DeliveryFailure]) -> Counter[tuple[str, str]]:
    return Counter((f.topic, f.reason) for f in failures)


def delivery_alert(failures: Sequence[DeliveryFailure], at: datetime) -> Alert | None:
    """One CRITICAL alert naming every topic and reason (with counts); None when nothing failed.

    Critical because a lost md.* event is a hole downstream cannot see, and a lost trade.* event is
    a hole in what we know about our own orders."""
    if not failures:
        return None
    counts = delivery_counts(failures)
    parts = [f"{topic}: {n} x {reason}" for (topic, reason), n in sorted(counts.items())]
    topics = ",".join(sorted({topic for topic, _ in counts}))
    return Alert(
        alert_kind="kafka.delivery_failed",
        severity=Severity.CRITICAL,
        message=f"{len(failures)} event(s) not delivered to Kafka: " + "; ".join(parts),
        dedupe_key=f"kafka.delivery_failed:{topics}:{at.isoformat()}",
        event_ts=at,
    )
