"""Recorded books as the exchange's book: archived snapshots and deltas become frames, a frame is put on
the book changing only what changed, the replayed orders never trade with each other, and what a user
took stays taken until the refill time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from core.enums import BookSide, Outcome, WindowPhase
from core.ids import ConditionId, TokenId, WindowId
from core.models import BookDelta, BookSnapshot, Level, LevelChange, WindowEvent
from simulator.accounts import COLLATERAL
from simulator.config import SimulatorConfig
from simulator.exchange import Exchange, OrderRequest
from simulator.markets import ManualClock
from simulator.recorded_books import BookFrame, RecordedBooks, RecordedMarket, books_from_events
from simulator.replay_books import ReplayBooksScenario, build_replay_books
from simulator.scenario import ScenarioSettings

START = datetime(2026, 9, 28, 10, 0, tzinfo=UTC)
END = START + timedelta(minutes=15)
CID = "0x" + "ab" * 32
UP, DOWN = "101", "202"
USER = "0x" + "00" * 19 + "42"
D = Decimal


def window(phase: WindowPhase, at: datetime, outcome: Outcome | None = None) -> WindowEvent:
    return WindowEvent(
        source_ts=at,
        recv_ts=at,
        phase=phase,
        window_id=WindowId("btc-updown-15m-1790589600"),
        asset="btc",
        interval_s=900,
        condition_id=ConditionId(CID),
        up_token_id=TokenId(UP),
        down_token_id=TokenId(DOWN),
        start_ts=START,
        end_ts=END,
        venue_outcome=outcome,
    )


def snapshot(
    token: str, at: datetime, bids: list[tuple[str, str]], asks: list[tuple[str, str]]
) -> BookSnapshot:
    return BookSnapshot(
        source_ts=at,
        recv_ts=at,
        token_id=TokenId(token),
        condition_id=ConditionId(CID),
        bids=tuple(Level(price=D(p), size=D(s)) for p, s in bids),
        asks=tuple(Level(price=D(p), size=D(s)) for p, s in asks),
    )


def test_archived_snapshots_and_deltas_become_up_space_frames_and_the_recorded_winner() -> None:
    t = START + timedelta(minutes=1)
    delta = BookDelta(
        source_ts=t + timedelta(seconds=1),
        recv_ts=t + timedelta(seconds=1),
        token_id=TokenId(UP),
        condition_id=ConditionId(CID),
        changes=(
            LevelChange(side=BookSide.ASK, price=D("0.61"), size=D(0)),
            LevelChange(side=BookSide.ASK, price=D("0.63"), size=D(7)),
        ),
    )
    events = [
        window(WindowPhase.OPEN, START - timedelta(minutes=20)),
        snapshot(
            DOWN, t - timedelta(seconds=1), [("0.39", "5")], [("0.41", "9")]
        ),  # mirrored until Up arrives
        snapshot(UP, t, [("0.59", "9")], [("0.61", "5"), ("0.62", "6")]),
        snapshot(DOWN, t, [("0.38", "6"), ("0.39", "5")], [("0.41", "9")]),  # ignored: Up is recorded
        delta,
        window(WindowPhase.RESOLVED, END + timedelta(seconds=40), Outcome.DOWN),
    ]
    books = books_from_events(events)
    (market,) = books.markets
    assert market.winner is not None and market.winner.value == "Down"
    assert market.resolved_at == END + timedelta(seconds=40) and market.asset == "btc"
    frames = books.frames[CID]
    assert [f.at for f in frames] == [t, t + timedelta(seconds=1)]
    assert frames[0].bids == ((D("0.59"), D(9)),) and frames[0].asks == ((D("0.61"), D(5)), (D("0.62"), D(6)))
    assert frames[1].asks == ((D("0.62"), D(6)), (D("0.63"), D(7)))

    down_only = books_from_events(events[:2])
    assert down_only.frames[CID][0].bids == ((D("0.59"), D(9)),)
    assert down_only.frames[CID][0].asks == ((D("0.61"), D(5)),)


def replay(frames: list[BookFrame], refill_delay_s: float = 10.0) -> tuple[Exchange, ReplayBooksScenario]:
    market = RecordedMarket("btc-updown-15m-1790589600", CID, UP, DOWN, START, END)
    books = RecordedBooks([market], {CID: frames})
    clock = ManualClock(frames[0].at)
    exchange = Exchange(SimulatorConfig(seed=5, refill_delay_s=refill_delay_s), clock)
    exchange.set_balance(USER, COLLATERAL, D(1000))
    scenario = build_replay_books(books, ScenarioSettings(start=frames[0].at), seed=5, clock=clock)
    scenario.bind(exchange)
    return exchange, scenario


def asks(exchange: Exchange) -> list[tuple[Decimal, Decimal]]:
    return [(D(a["price"]), D(a["size"])) for a in reversed(exchange.book(UP)["asks"])]


def at(seconds: int) -> datetime:
    return START + timedelta(minutes=5, seconds=seconds)


def test_what_a_user_took_stays_taken_until_the_refill_time_even_when_the_recording_changes() -> None:
    frames = [
        BookFrame(at(0), ((D("0.59"), D(50)),), ((D("0.60"), D(100)), (D("0.61"), D(30)))),
        BookFrame(at(1), ((D("0.59"), D(50)),), ((D("0.60"), D(120)), (D("0.61"), D(30)))),
        BookFrame(at(60), ((D("0.59"), D(50)),), ((D("0.60"), D(110)), (D("0.61"), D(30)))),
    ]
    exchange, scenario = replay(frames)
    assert asks(exchange) == [(D("0.60"), D(100)), (D("0.61"), D(30))]
    taken = exchange.submit(OrderRequest("0x" + "9" * 64, USER, UP, "BUY", D("0.60"), D(100), "FOK"))
    assert taken.order.size_matched == 100
    assert asks(exchange) == [(D("0.61"), D(30))]
    due = exchange.refill_at(UP, "SELL", D("0.60"))
    assert due is not None and at(5) <= due < at(15)

    scenario.advance_to(at(1))
    assert asks(exchange) == [(D("0.60"), D(20)), (D("0.61"), D(30))], "120 recorded, 100 still missing"
    scenario.advance_to(at(60))
    assert asks(exchange) == [(D("0.60"), D(110)), (D("0.61"), D(30))], "refilled in full after the delay"


def test_replayed_orders_never_trade_with_each_other_when_the_recorded_book_moves_through_itself() -> None:
    frames = [
        BookFrame(at(0), ((D("0.40"), D(50)), (D("0.39"), D(10))), ((D("0.41"), D(50)),)),
        BookFrame(at(1), ((D("0.45"), D(20)),), ((D("0.46"), D(20)), (D("0.47"), D(5)))),
        BookFrame(at(2), ((D("0.30"), D(8)),), ((D("0.31"), D(9)),)),
    ]
    exchange, scenario = replay(frames)
    scenario.advance_to(at(1))
    assert asks(exchange) == [(D("0.46"), D(20)), (D("0.47"), D(5))]
    assert [(D(b["price"]), D(b["size"])) for b in exchange.book(UP)["bids"]] == [(D("0.45"), D(20))]
    scenario.advance_to(at(2))
    assert asks(exchange) == [(D("0.31"), D(9))]
    assert exchange.book(DOWN)["asks"][-1] == {"price": "0.7", "size": "8"}, "the Down book mirrors it"
    assert exchange._trades == {}


def test_a_frame_off_the_cent_grid_moves_the_market_to_the_fine_tick() -> None:
    frames = [
        BookFrame(at(0), ((D("0.95"), D(50)),), ((D("0.96"), D(50)),)),
        BookFrame(at(1), ((D("0.965"), D(50)),), ((D("0.97"), D(50)),)),
    ]
    exchange, scenario = replay(frames)
    assert exchange.tick_size(CID) == D("0.01")
    scenario.advance_to(at(1))
    assert exchange.tick_size(CID) == D("0.001")
    assert exchange.book(UP)["bids"][-1] == {"price": "0.965", "size": "50"}
