"""Hourly window slugs are named in New York time across both daylight-saving changes, and every
slug discovery asks for parses back to the hour it was made for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.polymarket.gamma import window_slugs
from connectors.polymarket.slugs import hourly_slug, parse_slug


@pytest.mark.parametrize(
    ("asset", "start", "slug"),
    [
        ("btc", datetime(2026, 6, 8, 18, tzinfo=UTC), "bitcoin-up-or-down-june-8-2026-2pm-et"),  # EDT
        ("eth", datetime(2026, 1, 15, 5, tzinfo=UTC), "ethereum-up-or-down-january-15-2026-12am-et"),  # EST
        ("sol", datetime(2026, 3, 8, 7, tzinfo=UTC), "solana-up-or-down-march-8-2026-3am-et"),  # 2am skipped
        ("xrp", datetime(2026, 12, 31, 16, tzinfo=UTC), "xrp-up-or-down-december-31-2026-11am-et"),
    ],
)
def test_hourly_slug_names_the_new_york_hour(asset: str, start: datetime, slug: str) -> None:
    assert hourly_slug(asset, start) == slug


def test_the_hour_repeated_when_daylight_time_ends_is_asked_for_once() -> None:
    now = datetime(2026, 11, 1, 6, 30, tzinfo=UTC)  # 01:30 EST, the second 1am of the night
    assert window_slugs(["btc"], [3600], now) == [
        "bitcoin-up-or-down-november-1-2026-12am-et",
        "bitcoin-up-or-down-november-1-2026-1am-et",
        "bitcoin-up-or-down-november-1-2026-2am-et",
    ]


def test_an_asset_without_an_hourly_name_is_refused() -> None:
    with pytest.raises(ValueError, match="no hourly slug name"):
        hourly_slug("abc", datetime(2026, 6, 8, 18, tzinfo=UTC))


@given(st.integers(min_value=0, max_value=5 * 365 * 24))
def test_hourly_slugs_parse_back_to_their_hour(hours: int) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=hours)
    info = parse_slug(hourly_slug("btc", start))
    assert info is not None and info.asset == "btc" and info.interval_s == 3600
    local = start.astimezone(info.start.tzinfo)
    # The repeated autumn hour names two UTC hours; the slug stands for the first of them.
    assert info.start == start or (info.start == start - timedelta(hours=1) and local.month == 11)
