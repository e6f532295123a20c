"""Clock offset and round trip against a source's time (the venue's `/time`, RTDS send stamps).

For a request sent at `sent` and answered at `received` (our clock) carrying the server's time,
the server's clock is assumed to have been read half-way through the round trip (NTP's estimate):
offset = server - (sent + rtt / 2). A positive offset means the source's clock is ahead of ours.
A one-way stamp (a pushed frame's send time) gives offset = stamp - received, which also contains
the transit time: an upper bound on how far behind we are, stored with rtt None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ClockSample:
    source: str
    measured_at: datetime
    offset: timedelta
    rtt: timedelta | None
    resolution: timedelta

    @property
    def offset_ms(self) -> float:
        return self.offset / timedelta(milliseconds=1)

    @property
    def rtt_ms(self) -> float | None:
        return None if self.rtt is None else self.rtt / timedelta(milliseconds=1)


def round_trip_sample(
    source: str, sent: datetime, received: datetime, server: datetime, resolution: timedelta
) -> ClockSample:
    """A sample from one request. `resolution` is the server time's unit (1 s for `/time`)."""
    if received < sent:
        raise ValueError(f"received {received.isoformat()} is before sent {sent.isoformat()}")
    rtt = received - sent
    return ClockSample(source, received, server - (sent + rtt / 2), rtt, resolution)


def one_way_sample(source: str, stamp: datetime, received: datetime, resolution: timedelta) -> ClockSample:
    """A sample from a pushed frame's send stamp: includes transit, so the offset is a bound."""
    return ClockSample(source, received, stamp - received, None, resolution)
