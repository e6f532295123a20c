"""core.orderbook: snapshots, level changes, stale deltas, drift against the venue's top, the §5 hash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from core.enums import BookSide
from core.models import BookDelta, BookSnapshot, Level, LevelChange, TickSizeChange
from core.orderbook import Applied, OrderBook, book_hash, book_hash_matches

TOKEN = "82133198552451212850200830554151366471676533031779107068575793937686902201075"
OTHER = "10924794978876512519339468018837262232052926359513916453542402327419458857949"
CID = "0xf41ae9e153f1a5284d56f80954360dd00a72b086ed9547c8111285beec1ed856"
T0 = datetime(2026, 6, 8, 8, 15, tzinfo=UTC)
D = Decimal


def snapshot(
    bids: list[tuple[str, str]], asks: list[tuple[str, str]], at: datetime = T0, token: str = TOKEN
) -> BookSnapshot:
    return BookSnapshot(
        source_ts=at,
        recv_ts=at,
        token_id=token,
        condition_id=CID,
        bids=tuple(Level(price=D(p), size=D(s)) for p, s in bids),
        asks=tuple(Level(price=D(p), size=D(s)) for p, s in asks),
    )


def delta(
    changes: list[tuple[BookSide, str, str]],
    at: datetime = T0,
    best_bid: str | None = None,
    best_ask: str | None = None,
    token: str = TOKEN,
) -> BookDelta:
    return BookDelta(
        source_ts=at,
        recv_ts=at,
        token_id=token,
        condition_id=CID,
        changes=tuple(LevelChange(side=s, price=D(p), size=D(z)) for s, p, z in changes),
        best_bid=D(best_bid) if best_bid is not None else None,
        best_ask=D(best_ask) if best_ask is not None else None,
    )


def synced_book() -> OrderBook:
    book = OrderBook(TOKEN)
    levels = snapshot([("0.47", "120"), ("0.48", "35.5")], [("0.51", "80"), ("0.5", "10")])
    assert book.apply_snapshot(levels) is Applied.OK
    return book


def test_snapshot_sets_both_sides_and_best_prices_regardless_of_served_order():
    book = synced_book()
    assert book.best_bid() == D("0.48")
    assert book.best_ask() == D("0.5")
    bids, asks = book.top(5)
    assert [(lv.price, lv.size) for lv in bids] == [(D("0.48"), D("35.5")), (D("0.47"), D("120"))]
    assert [(lv.price, lv.size) for lv in asks] == [(D("0.5"), D("10")), (D("0.51"), D("80"))]


def test_a_new_snapshot_replaces_every_level():
    book = synced_book()
    assert book.apply_snapshot(snapshot([("0.3", "1")], [], at=T0 + timedelta(seconds=1))) is Applied.OK
    assert book.levels(BookSide.BID) == {D("0.3"): D("1")}
    assert book.levels(BookSide.ASK) == {}
    assert book.best_ask() is None


def test_level_change_sets_the_new_total_and_zero_deletes():
    book = synced_book()
    changes = [(BookSide.BID, "0.48", "60.5"), (BookSide.ASK, "0.5", "0"), (BookSide.ASK, "0.52", "7")]
    result = book.apply_delta(delta(changes, best_bid="0.48", best_ask="0.51"))
    assert result is Applied.OK
    assert book.levels(BookSide.BID) == {D("0.47"): D("120"), D("0.48"): D("60.5")}
    assert book.levels(BookSide.ASK) == {D("0.51"): D("80"), D("0.52"): D("7")}


def test_top_of_book_disagreeing_with_the_venue_is_drift():
    book = synced_book()
    assert book.apply_delta(delta([(BookSide.BID, "0.49", "5")], best_bid="0.48", best_ask="0.5")) is (
        Applied.DRIFT
    )


def test_venue_empty_side_markers_agree_with_an_empty_local_side():
    book = OrderBook(TOKEN)
    book.apply_snapshot(snapshot([], []))
    assert book.apply_delta(delta([], best_bid="0", best_ask="1")) is Applied.OK
    assert book.apply_delta(delta([], best_bid="0.01", best_ask="1")) is Applied.DRIFT


def test_delta_older_than_the_last_snapshot_is_ignored():
    book = synced_book()
    before = book.levels(BookSide.BID)
    old = delta([(BookSide.BID, "0.48", "0")], at=T0 - timedelta(milliseconds=1))
    assert book.apply_delta(old) is Applied.STALE
    assert book.levels(BookSide.BID) == before


def test_older_snapshot_is_ignored():
    book = synced_book()
    assert book.apply_snapshot(snapshot([], [], at=T0 - timedelta(seconds=1))) is Applied.STALE
    assert book.best_bid() == D("0.48")


def test_delta_before_any_snapshot_asks_for_a_resync():
    book = OrderBook(TOKEN)
    assert book.apply_delta(delta([(BookSide.BID, "0.4", "1")])) is Applied.NOT_SYNCED
    assert book.levels(BookSide.BID) == {}


def test_events_of_another_token_are_refused():
    book = synced_book()
    assert book.apply_delta(delta([(BookSide.BID, "0.4", "1")], token=OTHER)) is Applied.WRONG_TOKEN
    assert book.apply_snapshot(snapshot([], [], token=OTHER)) is Applied.WRONG_TOKEN
    assert book.best_bid() == D("0.48")


def test_invalidate_forgets_levels_until_the_next_snapshot():
    book = synced_book()
    book.invalidate()
    assert not book.synced
    assert book.apply_delta(delta([])) is Applied.NOT_SYNCED


def test_tick_size_change_updates_the_tick():
    book = synced_book()
    change = TickSizeChange(
        source_ts=T0,
        recv_ts=T0,
        token_id=TOKEN,
        condition_id=CID,
        old_tick_size=D("0.01"),
        new_tick_size=D("0.001"),
    )
    assert book.apply_tick_size(change) is Applied.OK
    assert book.tick_size == D("0.001")


VECTOR_BODY = {
    "market": CID,
    "asset_id": TOKEN,
    "timestamp": "1780906650123",
    "hash": "b43c18b9c92e99a21f4b945cf913047bb8b26f95",
    "bids": [{"price": "0.47", "size": "120"}, {"price": "0.48", "size": "35.5"}],
    "asks": [{"price": "0.51", "size": "80"}, {"price": "0.50", "size": "10"}],
    "min_order_size": "5",
    "tick_size": "0.01",
    "neg_risk": False,
    "last_trade_price": "0.49",
}


def test_book_hash_reproduces_the_documented_vector():
    assert book_hash(VECTOR_BODY) == "b43c18b9c92e99a21f4b945cf913047bb8b26f95"
    assert book_hash_matches(VECTOR_BODY)


def test_book_hash_ignores_key_order_and_extra_keys_of_the_served_body():
    shuffled = {"extra": 1, **dict(reversed(list(VECTOR_BODY.items())))}
    assert book_hash(shuffled) == VECTOR_BODY["hash"]


def test_book_hash_changes_with_a_level_and_mismatch_is_reported():
    altered = {**VECTOR_BODY, "bids": [{"price": "0.47", "size": "121"}, {"price": "0.48", "size": "35.5"}]}
    assert book_hash(altered) != VECTOR_BODY["hash"]
    assert not book_hash_matches(altered)
    assert not book_hash_matches({k: v for k, v in VECTOR_BODY.items() if k != "tick_size"})


prices = st.integers(min_value=1, max_value=99).map(lambda c: D(c) / 100)
sizes = st.one_of(st.just(D(0)), st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False))
changes_st = st.lists(st.tuples(st.sampled_from(list(BookSide)), prices, sizes), max_size=60)


@given(initial=changes_st, steps=st.lists(changes_st, max_size=8))
def test_random_changes_equal_a_dict_model_and_never_leave_a_nonpositive_size(initial, steps):
    model: dict[BookSide, dict[Decimal, Decimal]] = {BookSide.BID: {}, BookSide.ASK: {}}
    for side, price, size in initial:
        model[side][price] = size
    book = OrderBook(TOKEN)
    book.apply_snapshot(
        snapshot(
            [(str(p), str(s)) for p, s in model[BookSide.BID].items()],
            [(str(p), str(s)) for p, s in model[BookSide.ASK].items()],
        )
    )
    for side in BookSide:
        model[side] = {p: s for p, s in model[side].items() if s > 0}
    for i, step in enumerate(steps):
        for side, price, size in step:
            if size > 0:
                model[side][price] = size
            else:
                model[side].pop(price, None)
        bid = max(model[BookSide.BID], default=None)
        ask = min(model[BookSide.ASK], default=None)
        at = T0 + timedelta(milliseconds=i)
        result = book.apply_delta(
            delta(
                [(s, str(p), str(z)) for s, p, z in step],
                at=at,
                best_bid=str(bid) if bid is not None else "0",
                best_ask=str(ask) if ask is not None else "1",
            )
        )
        assert result is Applied.OK
    for side in BookSide:
        assert book.levels(side) == model[side]
        assert all(size > 0 for size in book.levels(side).values())
    bids, asks = book.top(3)
    assert [lv.price for lv in bids] == sorted(model[BookSide.BID], reverse=True)[:3]
    assert [lv.price for lv in asks] == sorted(model[BookSide.ASK])[:3]


@given(first=changes_st, second=changes_st)
def test_a_snapshot_after_deltas_leaves_only_the_snapshot(first, second):
    book = OrderBook(TOKEN)
    book.apply_snapshot(snapshot([], []))
    book.apply_changes(LevelChange(side=s, price=p, size=z) for s, p, z in first)
    final = {p: z for s, p, z in second if s is BookSide.BID and z > 0}
    book.apply_snapshot(snapshot([(str(p), str(z)) for p, z in final.items()], [], at=T0 + timedelta(1)))
    assert book.levels(BookSide.BID) == final
    assert book.levels(BookSide.ASK) == {}
