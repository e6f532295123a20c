"""What every frame parser returns: the core events it yields and, if it could not use the frame
(or part of it), why. A parser never raises on bad input; the runner quarantines what it reports."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.models import Event


@dataclass(frozen=True)
class Parsed:
    """`events` in arrival order; `rejects` one reason per unusable frame or item (quarantined whole)."""

    events: tuple[Event, ...] = ()
    rejects: tuple[str, ...] = field(default_factory=tuple)
    control: bool = False  # a keep-alive or protocol frame (PONG, empty frame): neither data nor error

    @staticmethod
    def reject(reason: str) -> Parsed:
        return Parsed(rejects=(reason,))
