"""The API's live view with one btc-5m window in it, fed as the Kafka pump feeds it (encoded md.*
events through `LiveFeed.apply_raw`): two books of three levels, the strike print and a later
oracle print, so the instrument page has something to draw."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from api.live import LiveFeed
from core.enums import OracleStream, WindowPhase
from core.ids import ConditionId, TokenId, WindowId
from core.live_board import LiveBoard
from core.models import BookSnapshot, Level, OracleTick, WindowEvent
from core.serde import encode
from core.strategies import build_strategy

CONDITION = ConditionId("0x" + "ef" * 32)
UP, DOWN = TokenId("301"), TokenId("302")
STRIKE, ORACLE = "97123.45", "97180.10"


def _levels(*pairs: tuple[str, str]) -> tuple[Level, ...]:
    return tuple(Level(price=Decimal(p), size=Decimal(s)) for p, s in pairs)


def live_feed(now: datetime | None = None) -> LiveFeed:
    now = now or datetime.now(UTC)
    start = now.replace(microsecond=0) - timedelta(seconds=60)
    feed = LiveFeed(LiveBoard((build_strategy("canary", {"notional_usd": "1"}),)))
    window = WindowEvent(
        source_ts=start - timedelta(seconds=30),
        recv_ts=start - timedelta(seconds=30),
        phase=WindowPhase.OPEN,
        window_id=WindowId("btc-updown-5m-live"),
        asset="btc",
        interval_s=300,
        condition_id=CONDITION,
        up_token_id=UP,
        down_token_id=DOWN,
        start_ts=start,
        end_ts=start + timedelta(seconds=300),
        settlement_rule="CHAINLINK_SPOT",
    )
    feed.apply_raw("md.windows", encode(window))
    for at, price in ((start, STRIKE), (now - timedelta(seconds=1), ORACLE)):
        tick = OracleTick(
            source_ts=at,
            recv_ts=at,
            symbol="btc/usd",
            stream=OracleStream.CHAINLINK_SPOT,
            price=Decimal(price),
        )
        feed.apply_raw("md.oracle", encode(tick))
    at = now - timedelta(seconds=1)
    for token, bids, asks in (
        (
            UP,
            _levels(("0.63", "120"), ("0.62", "340"), ("0.61", "900")),
            _levels(("0.65", "150"), ("0.66", "410")),
        ),
        (
            DOWN,
            _levels(("0.35", "150"), ("0.34", "410")),
            _levels(("0.37", "120"), ("0.38", "340"), ("0.39", "900")),
        ),
    ):
        book = BookSnapshot(
            source_ts=at, recv_ts=at, token_id=token, condition_id=CONDITION, bids=bids, asks=asks
        )
        feed.apply_raw("md.book", encode(book))
    return feed
