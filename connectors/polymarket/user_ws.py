"""The user channel (POLYMARKET.md §8): our orders and fills -> trade.executions.

Authenticated by the API key, secret and passphrase in the first frame (secrets never logged); the
subscription names the condition ids of followed windows, `follow` adds more on the open socket
and `unfollow` drops those of windows that are over. Quiet for minutes is normal here, so its feed
monitor has no silence threshold (a disconnect still opens a gap: fills may have been missed and
must be reconciled by REST).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import SecretStr

from connectors.parsing import Parsed
from connectors.polymarket.user_parse import parse_user_frame
from core.feed_monitor import CompletenessRule
from core.models import Event

FEED = "polymarket.user"


@dataclass(frozen=True)
class ApiCreds:
    api_key: str
    secret: SecretStr
    passphrase: SecretStr


class UserChannel:
    """A `ws_runner.Channel` for `/ws/user`; `windows` maps condition id -> window id as they are found."""

    completeness = CompletenessRule.PRINTS  # not measured: a quiet user channel is normal

    def __init__(self, url: str, creds: ApiCreds, feed: str = FEED) -> None:
        self.feed = feed
        self._url = url
        self._creds = creds
        self.windows: dict[str, str] = {}
        self._outbox: list[str] = []

    def url(self) -> str:
        return self._url

    @property
    def api_key(self) -> str:
        """The key our orders and trade legs carry as `owner` (not a secret)."""
        return self._creds.api_key

    def _auth(self) -> dict[str, str]:
        return {
            "apiKey": self._creds.api_key,
            "secret": self._creds.secret.get_secret_value(),
            "passphrase": self._creds.passphrase.get_secret_value(),
        }

    def follow(self, windows: Iterable[tuple[str, str]]) -> None:
        """Add (condition id, window id) pairs; new markets are subscribed on the open socket."""
        fresh = [(c, w) for c, w in windows if c not in self.windows]
        if not fresh:
            return
        self.windows.update(fresh)
        markets = [c for c, _ in fresh]
        self._outbox.append(json.dumps({"auth": self._auth(), "operation": "subscribe", "markets": markets}))

    def unfollow(self, condition_ids: Iterable[str]) -> None:
        """Drop markets of windows that are over (unsubscribed on the open socket)."""
        gone = sorted(set(condition_ids) & self.windows.keys())
        if not gone:
            return
        for condition_id in gone:
            del self.windows[condition_id]
        self._outbox.append(json.dumps({"auth": self._auth(), "operation": "unsubscribe", "markets": gone}))

    def subscribe_frames(self) -> Sequence[str]:
        self._outbox.clear()
        first: dict[str, object] = {"auth": self._auth(), "type": "user"}
        if self.windows:
            first["markets"] = sorted(self.windows)
        return [json.dumps(first)]

    def outgoing(self) -> Sequence[str]:
        frames, self._outbox = self._outbox, []
        return frames

    def parse(self, raw: str | bytes, recv_ts: datetime) -> Parsed:
        return parse_user_frame(raw, recv_ts, our_api_key=self._creds.api_key, windows=self.windows)

    async def on_connected(self, recv_ts: Callable[[], datetime]) -> Sequence[Event]:
        return []

    async def after_event(self, event: Event, recv_ts: Callable[[], datetime]) -> Sequence[Event]:
        return []
