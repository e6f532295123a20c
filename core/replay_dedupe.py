"""Each source event once in a replay, however many times it was received and archived.

Sources re-send: RTDS repeats its last minute or two as a backfill after every (re)connect, and a
restarted `feeds` re-announces every window it discovers. Each copy is a new Kafka record with a
later receive time, so the archive holds it twice; only the source's own id (`source_id`) tells
that they are one event. A copy arrives within a bounded time of the original (the backfill's
reach, a window's listing life), so a replay remembers ids for that long per topic and forgets
older ones: memory stays bounded over a replay of any length.

A source id is `<observation>:<value>`. RTDS backfills carry some points only as a display-rounded
value, marked `~` in the id (`connectors.rtds_parse`): such a copy of an observation already seen
(exactly or not) is the same event, though its id differs.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

# How long after the original a re-sent copy can arrive, per topic. Windows are re-announced on
# every feeds restart while listed (a day ahead) and until resolved; market data re-sends reach
# back minutes at most (RTDS backfill ~1-2 min, a market-channel dump is the current book).
REPLAY_DEDUPE_HORIZON: dict[str, timedelta] = {"md.windows": timedelta(days=2)}
DEFAULT_REPLAY_DEDUPE_HORIZON = timedelta(minutes=30)
DISPLAY_ONLY_MARK = "~"  # the value field of a source id that holds a display-rounded value


def observation_key(source_id: str) -> str:
    """The observation a source id names, whatever form its value came in."""
    observation, _, _value = source_id.rpartition(":")
    return f"{observation}:*" if observation else source_id


class SourceIdWindow:
    """Remembers the source ids seen in the last horizon of order time, per topic.

    Fed in non-decreasing order time (a replay's order), so each topic's ids sit in time order and
    the expired ones are at the front.
    """

    def __init__(
        self,
        horizons: dict[str, timedelta] | None = None,
        default: timedelta = DEFAULT_REPLAY_DEDUPE_HORIZON,
    ) -> None:
        self._horizons = REPLAY_DEDUPE_HORIZON if horizons is None else horizons
        self._default = default
        self._seen: dict[str, OrderedDict[str, datetime]] = {}

    def first(self, topic: str, source_id: str, at: datetime) -> bool:
        """True the first time `source_id` appears on `topic` within the horizon before `at`."""
        seen = self._seen.setdefault(topic, OrderedDict())
        oldest = at - self._horizons.get(topic, self._default)
        while seen:
            first_id, first_at = next(iter(seen.items()))
            if first_at >= oldest:
                break
            del seen[first_id]
        observed = observation_key(source_id)
        display_only = source_id.rpartition(":")[2].startswith(DISPLAY_ONLY_MARK)
        if source_id in seen or (display_only and observed in seen):
            return False
        seen[source_id] = at
        seen[observed] = at
        seen.move_to_end(observed)  # kept in time order: the expired entries stay at the front
        return True

    def __len__(self) -> int:
        """Entries held (an id and its observation each)."""
        return sum(len(s) for s in self._seen.values())
