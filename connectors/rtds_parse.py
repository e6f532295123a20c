"""RTDS frames -> OracleTick / SpotTick (stub: signature fixed, body follows)."""

from __future__ import annotations

from datetime import datetime

from connectors.parsing import Parsed


def parse_rtds_frame(raw: str | bytes, recv_ts: datetime) -> Parsed:
    """One RTDS frame -> oracle and spot ticks."""
    return Parsed.reject("rtds parser not implemented yet")
