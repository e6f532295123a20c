"""Market-channel vectors: the POLYMARKET.md §7 examples, the pre-2025-09-15 shape, arrays and
garbage; then every frame the simulator's own wire code emits, rebuilt into books that must equal
the simulator's."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.polymarket.parse import parse_market_frame, parse_rest_book
from core.enums import BookSide, Outcome, Side, WindowPhase
from core.models import (
    BestBidAsk,
    BookDelta,
    BookSnapshot,
    Event,
    LastTrade,
    LevelChange,
    TickSizeChange,
    WindowEvent,
)
from core.orderbook import Applied, OrderBook, book_hash_matches
from core.timestamps import from_ms
from simulator.config import SimulatorConfig
from simulator.exchange import Exchange
from simulator.markets import SimMarket
from simulator.protocol import MarketMessage
from tests.contract.vectors import CID, DOWN, RECV, UP, open_window_market

D = Decimal

BOOK: dict[str, Any] = {
    "event_type": "book",
    "asset_id": UP,
    "market": CID,
    "bids": [{"price": "0.47", "size": "120"}, {"price": "0.48", "size": "35.5"}],
    "asks": [{"price": "0.51", "size": "80"}, {"price": "0.50", "size": "10"}],
    "timestamp": "1780906650123",
    "hash": "b43c18b9c92e99a21f4b945cf913047bb8b26f95",
}
PRICE_CHANGE: dict[str, Any] = {
    "event_type": "price_change",
    "market": CID,
    "timestamp": "1780906650201",
    "price_changes": [
        {
            "asset_id": UP,
            "price": "0.48",
            "size": "60.5",
            "side": "BUY",
            "hash": "5f0c",
            "best_bid": "0.48",
            "best_ask": "0.5",
        },
        {
            "asset_id": DOWN,
            "price": "0.52",
            "size": "60.5",
            "side": "SELL",
            "hash": "a91e",
            "best_bid": "0.5",
            "best_ask": "0.52",
        },
    ],
}
RESOLVED: dict[str, Any] = {
    "event_type": "market_resolved",
    "id": "2461060",
    "market": CID,
    "slug": "btc-updown-5m-1780906500",
    "question": "Bitcoin Up or Down - June 8, 4:15AM-4:20AM ET",
    "description": "…",
    "assets_ids": [UP, DOWN],
    "outcomes": ["Up", "Down"],
    "winning_asset_id": DOWN,
    "winning_outcome": "Down",
    "timestamp": "1780906816000",
}


def parse(obj: Any) -> list[Event]:
    parsed = parse_market_frame(json.dumps(obj), RECV)
    assert parsed.rejects == ()
    return list(parsed.events)


def test_book_example_is_a_best_first_snapshot():
    (snap,) = parse(BOOK)
    assert isinstance(snap, BookSnapshot)
    assert [(lv.price, lv.size) for lv in snap.bids] == [(D("0.48"), D("35.5")), (D("0.47"), D("120"))]
    assert [(lv.price, lv.size) for lv in snap.asks] == [(D("0.50"), D("10")), (D("0.51"), D("80"))]
    assert (snap.token_id, snap.condition_id, snap.book_hash) == (UP, CID, BOOK["hash"])
    assert (snap.source_ts, snap.recv_ts) == (from_ms(1780906650123), RECV)
    assert snap.source_id == f"book:{UP}:1780906650123:{BOOK['hash']}"


def test_price_change_example_gives_one_delta_per_token():
    up, down = parse(PRICE_CHANGE)
    assert isinstance(up, BookDelta) and isinstance(down, BookDelta)
    assert up.token_id == UP and up.changes == (
        LevelChange(side=BookSide.BID, price=D("0.48"), size=D("60.5")),
    )
    assert (up.best_bid, up.best_ask) == (D("0.48"), D("0.5"))
    assert down.token_id == DOWN and down.changes[0].side is BookSide.ASK
    assert up.source_id == f"price_change:{UP}:1780906650201:5f0c"
    assert up.source_id != down.source_id


def test_book_then_price_change_examples_apply_without_drift():
    (snap,) = parse(BOOK)
    up, _ = parse(PRICE_CHANGE)
    book = OrderBook(UP)
    assert book.apply_snapshot(snap) is Applied.OK  # type: ignore[arg-type]
    assert book.apply_delta(up) is Applied.OK  # type: ignore[arg-type]
    assert book.levels(BookSide.BID)[D("0.48")] == D("60.5")


def test_legacy_price_change_shape():
    legacy = {
        "event_type": "price_change",
        "market": CID,
        "asset_id": UP,
        "hash": "abc",
        "timestamp": "1757900000000",
        "changes": [
            {"price": "0.4", "side": "BUY", "size": "3"},
            {"price": "0.6", "side": "SELL", "size": "0"},
        ],
    }
    (delta,) = parse(legacy)
    assert isinstance(delta, BookDelta)
    assert [(c.side, c.price, c.size) for c in delta.changes] == [
        (BookSide.BID, D("0.4"), D("3")),
        (BookSide.ASK, D("0.6"), D("0")),
    ]
    assert (delta.best_bid, delta.best_ask, delta.book_hash) == (None, None, "abc")


def test_other_event_types():
    tick = {
        "event_type": "tick_size_change",
        "asset_id": UP,
        "market": CID,
        "old_tick_size": "0.01",
        "new_tick_size": "0.001",
        "timestamp": "1",
    }
    trade = {
        "event_type": "last_trade_price",
        "asset_id": UP,
        "market": CID,
        "price": "0.49",
        "side": "BUY",
        "size": "12.5",
        "fee_rate_bps": "1000",
        "timestamp": "2",
        "transaction_hash": "0xab",
    }
    top = {
        "event_type": "best_bid_ask",
        "asset_id": UP,
        "market": CID,
        "best_bid": "0.48",
        "best_ask": "0.5",
        "spread": "0.02",
        "timestamp": "3",
    }
    t, lt, bba = parse([tick, trade, top])
    assert isinstance(t, TickSizeChange) and t.new_tick_size == D("0.001")
    assert isinstance(lt, LastTrade) and (lt.price, lt.size, lt.side, lt.fee_rate_bps) == (
        D("0.49"),
        D("12.5"),
        Side.BUY,
        1000,
    )
    assert lt.source_id == f"last_trade_price:{UP}:2:0.49:12.5:BUY:0xab"
    assert isinstance(bba, BestBidAsk) and (bba.best_bid, bba.best_ask) == (D("0.48"), D("0.5"))


def test_market_resolved_example_is_a_resolved_window():
    (event,) = parse(RESOLVED)
    assert isinstance(event, WindowEvent)
    assert (event.phase, event.venue_outcome, event.window_id) == (
        WindowPhase.RESOLVED,
        Outcome.DOWN,
        RESOLVED["slug"],
    )
    assert (event.up_token_id, event.down_token_id) == (UP, DOWN)
    assert event.start_ts == datetime(2026, 6, 8, 8, 15, tzinfo=UTC)


def test_new_market_and_resolutions_of_other_markets_yield_nothing():
    new = {**RESOLVED, "event_type": "new_market"}
    other = {**RESOLVED, "slug": "will-it-rain"}
    parsed = parse_market_frame(json.dumps([new, other]), RECV)
    assert parsed.events == () and parsed.rejects == ()


def test_pong_is_control():
    assert parse_market_frame("PONG", RECV).control
    assert parse_market_frame(b"PONG", RECV).control


def test_one_bad_item_rejects_only_itself():
    bad = {**BOOK, "bids": [{"price": 0.47, "size": "1"}]}
    parsed = parse_market_frame(json.dumps([BOOK, bad, {"event_type": "mystery"}, 7, PRICE_CHANGE]), RECV)
    assert len(parsed.events) == 3
    assert len(parsed.rejects) == 3
    assert parsed.rejects[0].startswith("item 1: book: bids.0.price")
    assert parsed.rejects[1] == "item 2: unknown event_type 'mystery'"


@pytest.mark.parametrize(
    "frame",
    [
        '{"event_type":"book","asset_id":',
        "",
        "null",
        json.dumps({**BOOK, "asset_id": "not-a-token"}),
        json.dumps({**BOOK, "timestamp": "12:00"}),
        json.dumps({k: v for k, v in PRICE_CHANGE.items() if k != "price_changes"}),
        json.dumps({**PRICE_CHANGE, "price_changes": [{**PRICE_CHANGE["price_changes"][0], "price": "1.5"}]}),
        json.dumps({**BOOK, "event_type": None}),
    ],
)
def test_malformed_frames_give_reasons(frame):
    parsed = parse_market_frame(frame, RECV)
    assert parsed.events == () and len(parsed.rejects) == 1


def test_an_entry_without_size_is_rejected_and_the_rest_kept():
    entries = PRICE_CHANGE["price_changes"]
    frame = {
        **PRICE_CHANGE,
        "price_changes": [{k: v for k, v in entries[0].items() if k != "size"}, entries[1]],
    }
    parsed = parse_market_frame(json.dumps(frame), RECV)
    assert len(parsed.events) == 1 and len(parsed.rejects) == 1


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(raw):
    parse_market_frame(raw, RECV)


_KEYS = [
    "event_type",
    "asset_id",
    "market",
    "timestamp",
    "bids",
    "asks",
    "price",
    "size",
    "side",
    "price_changes",
    "changes",
]
_VALUES = st.sampled_from(
    ["book", "price_change", "last_trade_price", "BUY", UP, CID, "0.5", "1", "-1", "NaN"]
)
_JSON = st.recursive(
    st.none() | st.integers() | _VALUES | st.floats(allow_nan=False),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.sampled_from(_KEYS), c, max_size=6),
    max_leaves=25,
)


@given(_JSON)
def test_arbitrary_json_shapes_never_raise(value):
    parse_market_frame(json.dumps(value), RECV)


# -- the simulator's own frames ---------------------------------------------------------------------


def _simulated_run(seed: int, steps: int) -> tuple[Exchange, SimMarket, list[dict[str, Any]]]:
    rng = random.Random(seed)
    market = open_window_market()
    exchange = Exchange(SimulatorConfig(seed=seed))
    frames: list[dict[str, Any]] = []
    exchange.listeners.append(lambda m: frames.append(m.payload) if isinstance(m, MarketMessage) else None)
    exchange.add_market(market)
    frames.append([exchange.book(t) | {"event_type": "book"} for t in market.token_ids])  # type: ignore[arg-type]
    for _ in range(steps):
        if rng.random() < 0.05:
            exchange.cancel_owner_orders(rng.choice(["mm1", "mm2"]))
            continue
        token = rng.choice(market.token_ids)
        price = Decimal(rng.randint(2, 98)) / 100
        size = Decimal(rng.randint(5, 200))
        exchange.place_liquidity(
            token, "BUY" if rng.random() < 0.5 else "SELL", price, size, owner=rng.choice(["mm1", "mm2"])
        )
    return exchange, market, frames


def test_books_rebuilt_from_simulator_frames_equal_the_simulators_books():
    exchange, market, frames = _simulated_run(seed=7, steps=400)
    books = {t: OrderBook(t) for t in market.token_ids}
    kinds: set[str] = set()
    for frame in frames:
        parsed = parse_market_frame(json.dumps(frame), RECV)
        assert parsed.rejects == (), (frame, parsed.rejects)
        for event in parsed.events:
            kinds.add(event.kind)  # type: ignore[attr-defined]
            if isinstance(event, BookSnapshot):
                assert books[event.token_id].apply_snapshot(event) is Applied.OK
            elif isinstance(event, BookDelta):
                assert books[event.token_id].apply_delta(event) is Applied.OK
    assert {"book", "delta", "best_bid_ask", "last_trade"} <= kinds
    for token in market.token_ids:
        served = exchange.book(token)
        assert book_hash_matches(served)
        for side, key in ((BookSide.BID, "bids"), (BookSide.ASK, "asks")):
            assert books[token].levels(side) == {D(lv["price"]): D(lv["size"]) for lv in served[key]}
        resync = parse_rest_book(served, RECV)
        assert isinstance(resync, BookSnapshot) and resync.token_id == token
        fresh = OrderBook(token)
        assert fresh.apply_snapshot(resync) is Applied.OK
        assert fresh.levels(BookSide.BID) == books[token].levels(BookSide.BID)
        assert isinstance(parse_rest_book({**served, "timestamp": "1"}, RECV), str)


def test_a_duplicated_simulator_frame_repeats_its_source_ids():
    _, _, frames = _simulated_run(seed=3, steps=50)
    for frame in frames[1:20]:
        first = parse_market_frame(json.dumps(frame), RECV).events
        again = parse_market_frame(json.dumps(frame), RECV).events
        assert [e.source_id for e in first] == [e.source_id for e in again]  # type: ignore[attr-defined]
