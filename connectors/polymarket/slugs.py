"""Window slugs -> asset, interval and start (POLYMARKET.md §2.1).

5m/15m/4h: `{asset}-updown-{5m|15m|4h}-{start_unix}`. Hourly: `{name}-up-or-down-{month}-{day}-
{year}-{h}{am|pm}-et`, in New York time; the older hourly form has no year, so a reference time
(the receive time) picks the year that puts the window nearest to it. The format is undocumented,
so anything that does not match returns None rather than a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

__all__ = ["SlugInfo", "hourly_slug", "parse_slug"]

_ET = ZoneInfo("America/New_York")
_SHORT_RE = re.compile(r"^([a-z0-9]{2,10})-updown-(5m|15m|4h)-(\d{9,11})$")
_HOURLY_RE = re.compile(
    r"^([a-z]+(?:-[a-z]+)*?)-up-or-down-([a-z]+)-(\d{1,2})-(?:(\d{4})-)?(\d{1,2})(am|pm)-et$"
)
_INTERVALS = {"5m": 300, "15m": 900, "4h": 14_400}
_NAMES = {
    "bitcoin": "btc",
    "ethereum": "eth",
    "solana": "sol",
    "xrp": "xrp",
    "dogecoin": "doge",
    "bnb": "bnb",
    "hyperliquid": "hype",
}
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        )
    )
}


_ASSET_NAMES = {asset: name for name, asset in _NAMES.items()}
_MONTH_NAMES = {number: name for name, number in _MONTHS.items()}


@dataclass(frozen=True, slots=True)
class SlugInfo:
    asset: str
    interval_s: int
    start: datetime

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=self.interval_s)


def _hourly_start(month: int, day: int, year: int, hour12: int, meridiem: str) -> datetime | None:
    if not 1 <= hour12 <= 12:
        return None
    hour = hour12 % 12 + (12 if meridiem == "pm" else 0)
    try:
        local = datetime(year, month, day, hour, tzinfo=_ET)
    except ValueError:
        return None
    return local.astimezone(UTC)


def parse_slug(slug: str, reference: datetime | None = None) -> SlugInfo | None:
    """Asset, interval and start of a window slug; None when it is not an Up/Down window slug.

    `reference` (an aware time) is needed only for the year-less hourly form.
    """
    short = _SHORT_RE.match(slug)
    if short:
        interval, start_s = _INTERVALS[short.group(2)], int(short.group(3))
        if start_s % interval:
            return None
        return SlugInfo(short.group(1), interval, datetime.fromtimestamp(start_s, tz=UTC))
    hourly = _HOURLY_RE.match(slug)
    if hourly is None:
        return None
    name, month_name, day, year, hour, meridiem = hourly.groups()
    asset = _NAMES.get(name)
    month = _MONTHS.get(month_name)
    if asset is None or month is None:
        return None
    start: datetime | None
    if year is not None:
        start = _hourly_start(month, int(day), int(year), int(hour), meridiem)
    elif reference is not None:
        candidates = [
            s
            for y in (reference.year - 1, reference.year, reference.year + 1)
            if (s := _hourly_start(month, int(day), y, int(hour), meridiem)) is not None
        ]
        start = min(candidates, key=lambda s: abs(s - reference), default=None)
    else:
        return None
    return SlugInfo(asset, 3600, start) if start is not None else None


def hourly_slug(asset: str, start: datetime) -> str:
    """The hourly window slug of `asset` starting at `start` (an aware UTC hour), in New York time.

    At the end of daylight time two UTC hours share one ET label; the venue lists one window for it."""
    name = _ASSET_NAMES.get(asset)
    if name is None:
        raise ValueError(f"no hourly slug name for asset {asset!r}; known: {sorted(_ASSET_NAMES)}")
    local = start.astimezone(_ET)
    hour12 = local.hour % 12 or 12
    meridiem = "am" if local.hour < 12 else "pm"
    return f"{name}-up-or-down-{_MONTH_NAMES[local.month]}-{local.day}-{local.year}-{hour12}{meridiem}-et"
