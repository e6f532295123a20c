"""core.serde.decode_compact: the regex decoder of md.book snapshots gives what pydantic gives for
every value, and refuses exactly what pydantic refuses; the order book reads a compact snapshot's
levels as it reads the model's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.enums import BookSide
from core.models import BookSnapshot, CompactBookSnapshot, Level
from core.orderbook import OrderBook
from core.serde import DecodeError, decode, decode_compact, encode

TOPIC = "md.book"
T0 = datetime(2026, 9, 28, 8, 45, 12, 649000, tzinfo=UTC)
TOKEN = "898563351475117980149869385060875190"
CID = "0x" + "ab" * 32

prices = st.one_of(
    st.decimals(min_value=0, max_value=1, places=3),
    st.decimals(min_value=0, max_value=1, allow_nan=False, allow_infinity=False),
    st.sampled_from([Decimal("0"), Decimal("1"), Decimal("1.000"), Decimal("0.5"), Decimal("1E-8")]),
)
sizes = st.one_of(
    st.decimals(min_value=0, max_value=10**7, places=2),
    st.decimals(min_value=0, max_value=10**30, allow_nan=False, allow_infinity=False),
)
levels = st.lists(st.builds(Level, price=prices, size=sizes), max_size=25).map(tuple)
times = st.datetimes(
    min_value=datetime(1, 1, 2),  # noqa: DTZ001 (hypothesis bounds are naive; the zone is drawn)
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(minutes=330))]),
)
texts = st.none() | st.text(max_size=12)
snapshots = st.builds(
    BookSnapshot,
    source_ts=times,
    recv_ts=times,
    source_id=texts,
    token_id=st.from_regex(r"[0-9]{1,78}", fullmatch=True),
    condition_id=st.from_regex(r"0x[0-9a-fA-F]{64}", fullmatch=True),
    bids=levels,
    asks=levels,
    tick_size=st.none() | prices,
    book_hash=texts,
)


def outcome(decoder: object, data: bytes) -> object:
    """What a decoder makes of `data`, as the model (a compact snapshot becomes its model)."""
    assert callable(decoder)
    try:
        value = decoder(TOPIC, data)
    except DecodeError:
        return "refused"
    return value.to_model() if isinstance(value, CompactBookSnapshot) else value


def book(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> BookSnapshot:
    return BookSnapshot(
        source_ts=T0,
        recv_ts=T0,
        token_id=TOKEN,
        condition_id=CID,
        bids=tuple(Level(price=Decimal(p), size=Decimal(s)) for p, s in bids),
        asks=tuple(Level(price=Decimal(p), size=Decimal(s)) for p, s in asks),
        tick_size=Decimal("0.01"),
    )


@settings(max_examples=300)
@given(snapshots)
def test_every_encoded_snapshot_decodes_to_what_pydantic_gives(snapshot: BookSnapshot) -> None:
    data = encode(snapshot)
    assert outcome(decode_compact, data) == outcome(decode, data) == snapshot


def test_a_snapshot_in_encode_form_takes_the_fast_path_and_keeps_the_wire_strings() -> None:
    snapshot = book([("0.5", "205.00"), ("0.49", "0")], [("0.51", "514.99"), ("1", "3")])
    fast = decode_compact(TOPIC, encode(snapshot))
    assert isinstance(fast, CompactBookSnapshot)
    assert fast.level_pairs(BookSide.BID) == [
        (Decimal("0.5"), Decimal("205.00")),
        (Decimal("0.49"), Decimal(0)),
    ]
    assert str(fast.level_pairs(BookSide.BID)[0][1]) == "205.00"  # exact, as sent
    assert fast.to_model() == snapshot and fast.bids == snapshot.bids and fast.asks == snapshot.asks


@settings(max_examples=500)
@given(snapshots, st.data())
def test_a_corrupted_value_is_refused_or_accepted_exactly_as_pydantic_does(
    snapshot: BookSnapshot, data: st.DataObject
) -> None:
    raw = bytearray(encode(snapshot))
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["replace", "insert", "delete"]))
        byte = data.draw(st.sampled_from(list(b'0123456789.-+eE"{}[],: \\xZ\x00\xffa')))
        if action == "replace":
            raw[at] = byte
        elif action == "insert":
            raw.insert(at, byte)
        else:
            del raw[at]
    assert outcome(decode_compact, bytes(raw)) == outcome(decode, bytes(raw))


VALID = encode(book([("0.5", "205.00")], [("0.51", "514.99")])).decode()


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"0.51"', '"1.01"'),  # price above 1
        ('"0.51"', '"1.00"'),  # 1 is a price
        ('"0.51"', '"-0.5"'),
        ('"0.51"', '"-0"'),
        ('"0.51"', '"5.1E-1"'),
        ('"0.51"', '"NaN"'),
        ('"0.51"', '"Infinity"'),
        ('"0.51"', "0.51"),  # a JSON float: money never comes as a float
        ('"0.51"', "1"),  # a JSON integer is accepted
        ('"0.51"', '" 0.51 "'),
        ('"0.51"', '"00.51"'),
        ('"514.99"', '"-1"'),
        ('"514.99"', '"1_000"'),
        ('"514.99"', '"514."'),
        ('"514.99"', '".5"'),
        ('"514.99"', '"1e3"'),
        ('"514.99"', "null"),
        ('"tick_size":"0.01"', '"tick_size":null'),
        ('"tick_size":"0.01"', '"tick_size":"2"'),
        ('"source_id":null', '"source_id":"abc"'),
        ('"source_id":null', '"source_id":"a\\"b"'),
        ('"source_id":null', '"source_id":"a\\u0041"'),
        ('"source_id":null', '"source_id":"a\x01"'),
        ('"source_id":null', '"source_id":1'),
        ('"book_hash":null', '"book_hash":"0xabc"'),
        ("2026-09-28T08:45:12.649000Z", "2026-09-28T08:45:12Z"),
        ("2026-09-28T08:45:12.649000Z", "2026-09-28T08:45:12.6Z"),
        ("2026-09-28T08:45:12.649000Z", "2026-09-28T08:45:12.6490001Z"),
        ("2026-09-28T08:45:12.649000Z", "2026-02-30T08:45:12Z"),
        ("2026-09-28T08:45:12.649000Z", "2026-09-28T24:00:00Z"),
        ("2026-09-28T08:45:12.649000Z", "2026-09-28T08:45:12"),  # naive: refused
        ("2026-09-28T08:45:12.649000Z", "2026-09-28T08:45:12+02:00"),
        ("2026-09-28T08:45:12.649000Z", "0000-09-28T08:45:12Z"),
        (TOKEN, TOKEN + "x"),
        (TOKEN, "1" * 79),
        (CID, CID[:-1]),
        (CID, CID.upper().replace("0X", "0x")),
        ('"schema_version":1', '"schema_version":2'),
        ('"kind":"book"', '"kind":"delta"'),
        ('"bids":[', '"bids": ['),
        ('"size":"205.00"}', '"size":"205.00","x":1}'),
        ('"book_hash":null}', '"book_hash":null,"extra":1}'),
        ('{"price":"0.5","size":"205.00"}', '{"size":"205.00","price":"0.5"}'),
        ('{"price":"0.5","size":"205.00"}', '{"price":"0.5","size":"205.00"},'),
        ('{"price":"0.5","size":"205.00"}', ""),
        ("}", "} "),
    ],
)
def test_hand_picked_edges_are_decided_as_pydantic_decides(old: str, new: str) -> None:
    assert old in VALID
    data = VALID.replace(old, new, 1).encode()
    assert outcome(decode_compact, data) == outcome(decode, data)


def test_values_that_are_not_json_are_refused() -> None:
    with pytest.raises(DecodeError):
        decode_compact(TOPIC, b"not json")
    with pytest.raises(DecodeError):
        decode_compact(TOPIC, b"\xff{")


@settings(max_examples=200)
@given(levels, levels, st.integers(1, 30))
def test_the_order_book_reads_a_compact_snapshot_as_it_reads_the_model(
    bids: tuple[Level, ...], asks: tuple[Level, ...], depth: int
) -> None:
    snapshot = BookSnapshot(source_ts=T0, recv_ts=T0, token_id=TOKEN, condition_id=CID, bids=bids, asks=asks)
    compact = decode_compact(TOPIC, encode(snapshot))
    model_book, compact_book = OrderBook(TOKEN), OrderBook(TOKEN)
    assert model_book.apply_snapshot(snapshot) is compact_book.apply_snapshot(compact)
    assert compact_book.best_bid() == model_book.best_bid()
    assert compact_book.best_ask() == model_book.best_ask()
    assert compact_book.top(depth) == model_book.top(depth)
    assert compact_book.levels(BookSide.BID) == model_book.levels(BookSide.BID)
    assert compact_book.levels(BookSide.ASK) == model_book.levels(BookSide.ASK)


def test_a_newer_compact_snapshot_replaces_an_unread_one_and_a_stale_one_is_ignored() -> None:
    book_ = OrderBook(TOKEN)
    first = decode_compact(TOPIC, encode(book([("0.4", "1")], [("0.6", "1")])))
    later = book([("0.45", "2")], [("0.55", "2")]).model_copy(update={"source_ts": T0 + timedelta(seconds=1)})
    second = decode_compact(TOPIC, encode(later))
    book_.apply_snapshot(first)
    book_.apply_snapshot(second)
    assert book_.apply_snapshot(first).value == "STALE"
    assert (book_.best_bid(), book_.best_ask()) == (Decimal("0.45"), Decimal("0.55"))
