"""Gamma golden vectors: every market object of the fixture day, key drift, and slug mapping
across assets and intervals (fixtures/updown-markets-metadata)."""

from __future__ import annotations

import csv
import gzip
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.polymarket.parse import parse_gamma_market
from connectors.polymarket.slugs import parse_slug
from core.enums import Outcome, WindowPhase
from core.models import WindowEvent
from tests.contract.vectors import RECV, fixture


def _rows() -> list[dict[str, Any]]:
    path = fixture("btc5m-2026-06-08", "BTC-5m-markets-2026-06-08.jsonl.gz")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


ROWS = _rows()
OUTCOME = {("1", "0"): Outcome.UP, ("0", "1"): Outcome.DOWN}


def _check(event: WindowEvent | str, row: dict[str, Any]) -> None:
    assert isinstance(event, WindowEvent), event
    assert event.window_id == row["slug"]
    assert event.condition_id == row["condition_id"]
    assert (event.up_token_id, event.down_token_id) == tuple(row["token_ids"])
    assert event.start_ts == datetime.fromtimestamp(row["start_sec"], tz=UTC)
    assert event.end_ts == datetime.fromtimestamp(row["end_sec"], tz=UTC)
    assert (event.asset, event.interval_s) == ("btc", 300)
    assert event.phase is WindowPhase.RESOLVED
    assert event.venue_outcome is OUTCOME[tuple(row["outcome_prices"])]
    assert event.settlement_rule == "CHAINLINK_SPOT"
    assert event.recv_ts == RECV


def test_every_fixture_market_parses_to_its_recorded_window():
    assert len(ROWS) == 292
    for row in ROWS:
        _check(parse_gamma_market(row["raw"], RECV), row)


def test_key_drift_unknown_keys_added_and_unused_keys_removed():
    unused = ("volume", "icon", "image", "liquidity", "spread", "bestBid", "umaEndDate", "feeSchedule")
    for row in ROWS[:40]:
        drifted = {k: v for k, v in row["raw"].items() if k not in unused}
        drifted.update(comboStatus="none", oneDayPriceChange=0.12, someFutureKey={"nested": [1, 2]})
        _check(parse_gamma_market(drifted, RECV), row)


def test_token_ids_are_mapped_by_label_not_position():
    row = ROWS[0]
    raw = dict(row["raw"])
    raw["outcomes"] = json.dumps(list(reversed(json.loads(raw["outcomes"]))))
    raw["clobTokenIds"] = json.dumps(list(reversed(json.loads(raw["clobTokenIds"]))))
    raw["outcomePrices"] = json.dumps(list(reversed(json.loads(raw["outcomePrices"]))))
    _check(parse_gamma_market(raw, RECV), row)


def test_real_arrays_are_accepted_as_well_as_json_strings():
    row = ROWS[1]
    raw = {
        **row["raw"],
        **{k: json.loads(row["raw"][k]) for k in ("outcomes", "clobTokenIds", "outcomePrices")},
    }
    _check(parse_gamma_market(raw, RECV), row)


def _open_copy(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        **raw,
        "closed": False,
        "active": True,
        "acceptingOrders": True,
        "umaResolutionStatus": None,
        "outcomePrices": '["0.5", "0.5"]',
    }


def test_phases_from_the_market_flags():
    raw = ROWS[10]["raw"]
    start = datetime.fromtimestamp(ROWS[10]["start_sec"], tz=UTC)
    before_end = start + timedelta(seconds=10)
    opened = parse_gamma_market(_open_copy(raw), before_end)
    assert isinstance(opened, WindowEvent)
    assert (opened.phase, opened.venue_outcome) == (WindowPhase.OPEN, None)
    listed = parse_gamma_market({**_open_copy(raw), "acceptingOrders": False}, before_end)
    assert isinstance(listed, WindowEvent) and listed.phase is WindowPhase.DISCOVERED
    after_end = start + timedelta(seconds=301)
    ended = parse_gamma_market(_open_copy(raw), after_end)
    assert isinstance(ended, WindowEvent) and ended.phase is WindowPhase.CLOSED
    closed = parse_gamma_market({**_open_copy(raw), "closed": True}, before_end)
    assert isinstance(closed, WindowEvent) and closed.phase is WindowPhase.CLOSED


def test_polling_an_unchanged_market_repeats_its_source_id():
    raw = ROWS[3]["raw"]
    a = parse_gamma_market(raw, RECV)
    b = parse_gamma_market(raw, RECV + timedelta(seconds=5))
    assert isinstance(a, WindowEvent) and isinstance(b, WindowEvent)
    assert a.source_id == b.source_id
    opened = parse_gamma_market(_open_copy(raw), RECV - timedelta(days=200))
    assert isinstance(opened, WindowEvent) and opened.source_id != a.source_id


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"clobTokenIds": "not json"}, "JSONDecodeError"),
        ({"clobTokenIds": '["1"]'}, "ValueError"),
        ({"outcomes": '["Yes", "No"]'}, "not Up/Down"),
        ({"slug": "will-it-rain-tomorrow"}, "not an Up/Down window slug"),
        ({"slug": None}, "without a slug"),
        ({"conditionId": "0x12"}, "ValidationError"),
        ({"eventStartTime": "2026-06-08T08:16:00Z"}, "disagree with the slug"),
        ({"outcomePrices": "[1, 0]"}, "ValueError"),
    ],
)
def test_unusable_objects_give_a_reason(change, fragment):
    result = parse_gamma_market({**ROWS[5]["raw"], **change}, RECV)
    assert isinstance(result, str) and fragment in result


def test_a_non_mapping_gives_a_reason():
    assert isinstance(parse_gamma_market([], RECV), str)  # type: ignore[arg-type]


def _metadata_rows() -> list[dict[str, str]]:
    path = fixture("updown-markets-metadata", "updown_markets.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_metadata_slugs_map_to_asset_interval_and_times():
    rows = _metadata_rows()
    assert len(rows) == 120
    for row in rows:
        info = parse_slug(row["slug"])
        assert info is not None, row["slug"]
        assert info.asset == row["asset"].lower()
        assert info.interval_s == int(row["end_time"]) - int(row["start_time"])
        assert info.start == datetime.fromtimestamp(int(row["start_time"]), tz=UTC)
    assert {parse_slug(r["slug"]).interval_s for r in rows} == {300, 900}  # type: ignore[union-attr]
    assert {parse_slug(r["slug"]).asset for r in rows} == {"btc", "eth", "sol"}  # type: ignore[union-attr]


def test_metadata_rows_as_gamma_objects_map_tokens_by_label():
    for row in _metadata_rows()[:30]:
        obj = {
            "slug": row["slug"],
            "conditionId": "0x" + "ab" * 32,
            "outcomes": '["Up", "Down"]',
            "clobTokenIds": json.dumps([row["yes_token_id"], row["no_token_id"]]),
            "resolutionSource": row["resolution_source"],
            "active": True,
            "closed": False,
            "acceptingOrders": True,
        }
        event = parse_gamma_market(obj, datetime.fromtimestamp(int(row["start_time"]), tz=UTC))
        assert isinstance(event, WindowEvent), event
        assert (event.up_token_id, event.down_token_id) == (row["yes_token_id"], row["no_token_id"])
        assert event.settlement_rule == "CHAINLINK_SPOT"
        assert event.phase is WindowPhase.OPEN


@pytest.mark.parametrize(
    ("slug", "reference", "asset", "start"),
    [
        ("bitcoin-up-or-down-april-16-2026-9am-et", None, "btc", datetime(2026, 4, 16, 13, tzinfo=UTC)),
        ("ethereum-up-or-down-january-5-2026-12pm-et", None, "eth", datetime(2026, 1, 5, 17, tzinfo=UTC)),
        ("solana-up-or-down-march-1-2026-12am-et", None, "sol", datetime(2026, 3, 1, 5, tzinfo=UTC)),
        (
            "xrp-up-or-down-december-31-11pm-et",
            datetime(2026, 1, 1, 3, tzinfo=UTC),
            "xrp",
            datetime(2026, 1, 1, 4, tzinfo=UTC),
        ),
        ("btc-updown-4h-1780905600", None, "btc", datetime(2026, 6, 8, 8, tzinfo=UTC)),
    ],
)
def test_hourly_and_4h_slugs(slug, reference, asset, start):
    info = parse_slug(slug, reference)
    assert info is not None
    assert (info.asset, info.start) == (asset, start)


@pytest.mark.parametrize(
    "slug",
    ["btc-updown-5m-1780906501", "btc-updown-1m-1780906500", "bitcoin-up-or-down-june-31-2026-9am-et", "x"],
)
def test_slugs_that_are_not_windows(slug):
    assert parse_slug(slug, RECV) is None
