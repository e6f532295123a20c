"""Polymarket frames -> core events (stub: signatures fixed, bodies follow)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.parsing import Parsed
from core.models import WindowEvent


def parse_market_frame(raw: str | bytes, recv_ts: datetime) -> Parsed:
    """One market-channel frame (an event or a JSON array of them) -> md.book / md.trades events."""
    return Parsed.reject("market parser not implemented yet")


def parse_user_frame(raw: str | bytes, recv_ts: datetime, *, our_api_key: str | None = None) -> Parsed:
    """One user-channel frame -> Fill / OrderUpdate events."""
    return Parsed.reject("user parser not implemented yet")


def parse_gamma_market(obj: Mapping[str, Any], recv_ts: datetime) -> WindowEvent | str:
    """One Gamma market object -> a WindowEvent, or a reason string when unusable."""
    return "gamma parser not implemented yet"
