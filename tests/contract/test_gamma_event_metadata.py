"""Gamma event objects: `eventMetadata` ({"priceToBeat", "finalPrice"}, JSON numbers, appearing
about a minute after the window, POLYMARKET.md §2.3) is read exactly, as Decimal from the wire text."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from connectors.polymarket.gamma_parse import VenuePrices, loads_exact, parse_event_prices

SLUG = "btc-updown-5m-1780906500"


def event(**extra: Any) -> dict[str, Any]:
    return {"id": "1", "slug": SLUG, "markets": [{"slug": SLUG}], **extra}


def test_price_to_beat_and_final_price_are_read_exactly_from_the_number_text() -> None:
    raw = json.dumps(event(eventMetadata={"priceToBeat": 1, "finalPrice": 2})).replace(
        '"priceToBeat": 1', '"priceToBeat": 118543.43852913123'
    )
    got = parse_event_prices(loads_exact(raw))
    assert got == VenuePrices(SLUG, Decimal("118543.43852913123"), Decimal(2))


def test_an_event_without_metadata_yet_gives_nothing() -> None:
    assert parse_event_prices(event()) is None
    assert parse_event_prices(event(eventMetadata={})) is None
    assert parse_event_prices(event(eventMetadata=None)) is None


def test_metadata_as_a_json_string_is_read_too() -> None:
    got = parse_event_prices(loads_exact(json.dumps(event(eventMetadata='{"priceToBeat": 101.5}'))))
    assert got == VenuePrices(SLUG, Decimal("101.5"), None)


def test_a_float_or_a_bad_value_is_a_reason_never_a_rounded_price() -> None:
    assert isinstance(parse_event_prices(event(eventMetadata={"priceToBeat": 101.5})), str)
    assert isinstance(
        parse_event_prices(loads_exact('{"slug": "x", "eventMetadata": {"priceToBeat": "abc"}}')), str
    )
    assert isinstance(parse_event_prices(loads_exact('{"eventMetadata": {"priceToBeat": 1}}')), str)
    assert isinstance(
        parse_event_prices(loads_exact('{"slug": "x", "eventMetadata": {"priceToBeat": -1}}')), str
    )
