"""Who follows a window while it lives, and what each forgets when it is over.

Discovery tells `window(event)` about each phase change and `forget(event)` when it drops a window.
A new window's tokens are followed on the market channel and its market on the user channel. At
RESOLVED the market channel stops following its tokens and every runner drops their per-key state;
the user channel keeps the market until discovery forgets the window (a fill's MINED/CONFIRMED may
come after the resolution). `forget` drops everything again, for windows that left discovery's
range without a RESOLVED, and for keys re-created by frames already in flight at the unfollow.
"""

from __future__ import annotations

from collections.abc import Iterable

from connectors.polymarket.market_ws import MarketChannel
from connectors.polymarket.user_ws import UserChannel
from connectors.ws_runner import WsRunner
from core.enums import WindowPhase
from core.models import WindowEvent


class WindowFollowers:
    """The market channel, the user channel (None without credentials) and the runners of a process."""

    def __init__(self, market: MarketChannel, user: UserChannel | None, runners: Iterable[WsRunner]) -> None:
        self.market = market
        self.user = user
        self.runners = list(runners)

    def window(self, event: WindowEvent) -> None:
        """A window phase change from discovery."""
        tokens = (event.up_token_id, event.down_token_id)
        if event.phase is WindowPhase.RESOLVED:
            self.market.unfollow(tokens)
            self._forget_keys(event)
            return
        self.market.follow(tokens)
        if self.user is not None:
            self.user.follow([(event.condition_id, event.window_id)])

    def forget(self, event: WindowEvent) -> None:
        """Discovery dropped the window: nothing about it is kept any more."""
        self.market.unfollow((event.up_token_id, event.down_token_id))
        if self.user is not None:
            self.user.unfollow([event.condition_id])
        self._forget_keys(event)

    def _forget_keys(self, event: WindowEvent) -> None:
        for runner in self.runners:
            runner.forget((event.up_token_id, event.down_token_id, event.window_id))
