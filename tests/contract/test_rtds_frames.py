"""RTDS golden vectors (fixtures/rtds-binance-frames): every observed frame, its quirks, and garbage."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.rtds_parse import parse_rtds_frame
from core.enums import OracleStream
from core.models import OracleTick, SpotTick
from core.timestamps import from_ms
from tests.contract.vectors import RECV, fixture

FRAMES = fixture("rtds-binance-frames", "rtds_observed_frames.jsonl").read_text().splitlines()


def ticks(frame: str) -> list[OracleTick | SpotTick]:
    events = parse_rtds_frame(frame, RECV).events
    out = [e for e in events if isinstance(e, OracleTick | SpotTick)]
    assert len(out) == len(events)
    return out


def test_the_file_holds_the_nine_documented_frames():
    assert len(FRAMES) == 9


def test_binance_update_is_a_spot_tick_from_the_plain_decimal():
    (tick,) = parse_rtds_frame(FRAMES[0], RECV).events
    assert isinstance(tick, SpotTick)
    assert (tick.symbol, tick.venue, tick.price) == ("btcusdt", "binance", Decimal("79697.73000000"))
    assert tick.source_ts == from_ms(1788600389000)
    assert tick.recv_ts == RECV
    assert tick.source_id == "binance:btcusdt:1788600389000:79697.73000000"


def test_binance_backfill_gives_one_spot_tick_per_point_marked_display_only():
    assert not parse_rtds_frame(FRAMES[1], RECV).rejects
    points = ticks(FRAMES[1])
    assert [(t.source_ts, t.price) for t in points] == [
        (from_ms(1788600269000 + 1000 * i), Decimal("79697.73")) for i in range(3)
    ]
    assert all(isinstance(t, SpotTick) and str(t.source_id).endswith(":~79697.73") for t in points)


def test_chainlink_update_reads_the_e18_value_never_the_float():
    (tick,) = parse_rtds_frame(FRAMES[2], RECV).events
    assert isinstance(tick, OracleTick)
    assert tick.stream is OracleStream.CHAINLINK_SPOT
    assert tick.symbol == "btc/usd"
    assert tick.price == Decimal("79696.94817428796")
    assert str(tick.price) == "79696.948174287960000000"
    assert tick.source_id == "CHAINLINK_SPOT:btc/usd:1788600388000:79696948174287960000000"


def test_mislabelled_chainlink_backfill_is_told_apart_by_its_symbol():
    parsed = parse_rtds_frame(FRAMES[3], RECV)
    assert '"topic":"crypto_prices"' in FRAMES[3]
    assert not parsed.rejects
    assert len(parsed.events) == 3
    assert all(isinstance(t, OracleTick) and t.stream is OracleStream.CHAINLINK_SPOT for t in parsed.events)
    first = parsed.events[0]
    assert isinstance(first, OracleTick)
    assert first.price == Decimal("79639.20029609217")
    assert first.source_ts == from_ms(1788608387000)


@pytest.mark.parametrize(
    ("line", "stream", "price", "ms"),
    [
        (4, OracleStream.CHAINLINK_TWAP_30, "79697.474565615044788224", 1788600388000),
        (6, OracleStream.CHAINLINK_TWAP_60, "79697.575317474428059648", 1788600388000),
    ],
)
def test_twap_updates(line, stream, price, ms):
    (tick,) = parse_rtds_frame(FRAMES[line], RECV).events
    assert isinstance(tick, OracleTick)
    assert (tick.stream, tick.price, tick.source_ts) == (stream, Decimal(price), from_ms(ms))


@pytest.mark.parametrize(
    ("line", "stream", "first"),
    [
        (5, OracleStream.CHAINLINK_TWAP_30, "79696840994573453885440"),
        (7, OracleStream.CHAINLINK_TWAP_60, "79639795829763498573824"),
    ],
)
def test_twap_backfill_points_carry_the_exact_value(line, stream, first):
    parsed = parse_rtds_frame(FRAMES[line], RECV)
    assert not parsed.rejects and len(parsed.events) == 3
    tick = parsed.events[0]
    assert isinstance(tick, OracleTick) and tick.stream is stream
    assert tick.price == Decimal(first).scaleb(-18)
    assert tick.source_id is not None and tick.source_id.endswith(f":{first}")


def test_error_envelope_is_a_reject_naming_the_message():
    parsed = parse_rtds_frame(FRAMES[8], RECV)
    assert parsed.events == () and not parsed.control
    (reason,) = parsed.rejects
    assert "401" in reason and "definitely_not_a_topic" in reason


def test_empty_frame_at_connect_is_control():
    assert parse_rtds_frame("", RECV).control
    assert parse_rtds_frame(b"", RECV).control


def test_a_same_second_correction_is_not_a_duplicate():
    corrected = FRAMES[2].replace("79696948174287960000000", "79696948174287960000001")
    (a,) = ticks(FRAMES[2])
    (b,) = ticks(corrected)
    assert a.source_ts == b.source_ts and a.source_id != b.source_id


def test_same_frame_twice_has_the_same_source_id():
    assert ticks(FRAMES[2])[0].source_id == ticks(FRAMES[2])[0].source_id


@pytest.mark.parametrize(
    "frame",
    [
        "{not json",
        "[1, 2]",
        '{"topic":"crypto_prices_chainlink","type":"update"}',
        '{"topic":"crypto_prices_nope","type":"update","payload":{"symbol":"btc/usd","timestamp":1,"full_accuracy_value":"1"}}',
        '{"topic":"crypto_prices_chainlink","type":"update","payload":{"symbol":"btc/usd","timestamp":1788600388000,"value":1.5}}',
        '{"topic":"crypto_prices_chainlink","type":"update","payload":{"symbol":"btc/usd","timestamp":1788600388000,"full_accuracy_value":"1.5"}}',
        '{"topic":"crypto_prices_twap_thirty","type":"update","payload":{"symbol":"btc/usd","window_s":60,"timestamp":1788600388000,"full_accuracy_value":"1"}}',
        '{"topic":"crypto_prices_chainlink","type":"weird","payload":{"symbol":"btc/usd"}}',
        '{"topic":"crypto_prices_chainlink","type":"update","payload":{"symbol":"btc/usd","timestamp":"soon","full_accuracy_value":"1"}}',
    ],
)
def test_malformed_frames_are_rejected_with_a_reason(frame):
    parsed = parse_rtds_frame(frame, RECV)
    assert parsed.events == () and len(parsed.rejects) == 1 and parsed.rejects[0]


def test_one_bad_backfill_point_rejects_only_itself():
    frame = FRAMES[5].replace('"timestamp":1788600330000', '"timestamp":"x"')
    parsed = parse_rtds_frame(frame, RECV)
    assert len(parsed.events) == 2 and len(parsed.rejects) == 1


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(raw):
    parse_rtds_frame(raw, RECV)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda c: (
            st.lists(c)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "topic",
                        "type",
                        "payload",
                        "symbol",
                        "timestamp",
                        "data",
                        "full_accuracy_value",
                        "value",
                        "window_s",
                        "statusCode",
                        "body",
                    ]
                ),
                c,
            )
        ),
        max_leaves=20,
    )
)
def test_arbitrary_json_shapes_never_raise(value):
    parse_rtds_frame(json.dumps(value), RECV)
