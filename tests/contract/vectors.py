"""Where the recorded golden vectors live (read at run time from ../shared/fixtures, never copied)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from connectors.fixture_files import fixtures_dir
from simulator.markets import SimMarket

RECV = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
# The fixture day's first window (POLYMARKET.md §5's hash vector uses these ids).
UP = "82133198552451212850200830554151366471676533031779107068575793937686902201075"
DOWN = "109273525442244350742730952350330437524120358591131491104382409718960790277949"
CID = "0xf41ae9e153f1a5284d56f80954360dd00a72b086ed9547c8111285beec1ed856"


def open_window_market() -> SimMarket:
    """A 5-minute window open now: the simulator refuses orders after a market's end on its wall clock."""
    now_s = int(datetime.now(UTC).timestamp()) // 300 * 300
    start = datetime.fromtimestamp(now_s, tz=UTC)
    return SimMarket(
        condition_id=CID,
        slug=f"btc-updown-5m-{now_s}",
        question="q",
        asset="btc",
        interval_s=300,
        up_token_id=UP,
        down_token_id=DOWN,
        start=start,
        end=start + timedelta(hours=1),
    )


def fixture(*parts: str) -> Path:
    path = fixtures_dir().joinpath(*parts)
    assert path.exists(), f"fixture missing: {path} (set POLYWINDOW_FIXTURES_DIR)"
    return path
