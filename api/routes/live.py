"""GET /api/live and /api/live/{instrument}: each instrument's current window as the trading flow
sees it (both books' top levels, the reference print against the strike, time to close, what each
strategy sees), from the md.* topics (api.live). Prices are decimal strings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import BaseModel, Field

from api.live import LiveFeed
from core.live_board import BookSide, InstrumentView, StrategyView
from core.models import Level, Signal

__all__ = ["router"]

router = APIRouter(tags=["live"])


class LevelOut(BaseModel):
    price: Decimal
    size: Decimal


class BookOut(BaseModel):
    outcome: str
    synced: bool = Field(description="false until the book's snapshot has arrived (or after a drift)")
    bids: list[LevelOut] = Field(description="best first")
    asks: list[LevelOut] = Field(description="best first")
    best_bid: Decimal | None
    best_ask: Decimal | None
    mid: Decimal | None
    last_trade: Decimal | None


class SignalOut(BaseModel):
    outcome: str
    limit_price: Decimal
    notional_usd: Decimal
    event_ts: datetime
    reason: str


class StrategyOut(BaseModel):
    strategy: str
    would_signal_now: SignalOut | None = Field(
        description="its evaluate on this window's state at the API's now"
    )
    signals_in_window: int
    last_signal: SignalOut | None = Field(
        description="its last signal in this window, as the flow decided it"
    )


class InstrumentOut(BaseModel):
    instrument: str
    window_id: str
    start: datetime
    end: datetime
    seconds_left: Decimal
    phase: str
    strike: Decimal | None = Field(description="ours (the rule's start print), else the venue's")
    venue_strike: Decimal | None
    reference_price: Decimal | None = Field(description="the last print of the feed the window settles on")
    reference_ts: datetime | None
    reference_age_ms: int | None
    distance_bps: Decimal | None = Field(description="(reference - strike) / strike, in basis points")
    favoured: str | None = Field(description="the outcome the book prices above 0.50 (by mid)")
    up: BookOut
    down: BookOut
    last_book_ts: datetime | None
    book_age_ms: int | None
    strategies: list[StrategyOut]


class LiveOut(BaseModel):
    as_of: datetime
    instruments: list[InstrumentOut]
    events: int = Field(description="md.* events applied since the API started")
    malformed: int = Field(description="events that did not decode (counted, skipped)")
    unusable: int = Field(description="decoded events the view could not use (counted, skipped)")
    live_windows: int
    latest_event_ts: datetime | None


def _levels(levels: tuple[Level, ...]) -> list[LevelOut]:
    return [LevelOut(price=lv.price, size=lv.size) for lv in levels]


def _book(side: BookSide) -> BookOut:
    return BookOut(
        outcome=side.outcome.value,
        synced=side.synced,
        bids=_levels(side.bids),
        asks=_levels(side.asks),
        best_bid=side.best_bid,
        best_ask=side.best_ask,
        mid=side.mid,
        last_trade=side.last_trade,
    )


def _signal(signal: Signal | None) -> SignalOut | None:
    if signal is None:
        return None
    return SignalOut(
        outcome=signal.outcome.value,
        limit_price=signal.limit_price,
        notional_usd=signal.notional_usd,
        event_ts=signal.event_ts,
        reason=signal.reason,
    )


def _strategy(view: StrategyView) -> StrategyOut:
    return StrategyOut(
        strategy=view.strategy,
        would_signal_now=_signal(view.would_signal),
        signals_in_window=view.signals_in_window,
        last_signal=_signal(view.last_signal),
    )


def _age_ms(now: datetime, at: datetime | None) -> int | None:
    return None if at is None else max(int((now - at).total_seconds() * 1000), 0)


def _instrument(view: InstrumentView, now: datetime) -> InstrumentOut:
    return InstrumentOut(
        instrument=view.instrument,
        window_id=view.window_id,
        start=view.start,
        end=view.end,
        seconds_left=view.seconds_left,
        phase=view.phase,
        strike=view.strike,
        venue_strike=view.venue_strike,
        reference_price=view.reference_price,
        reference_ts=view.reference_ts,
        reference_age_ms=_age_ms(now, view.reference_ts),
        distance_bps=view.distance_bps,
        favoured=None if view.favoured is None else view.favoured.value,
        up=_book(view.up),
        down=_book(view.down),
        last_book_ts=view.last_book_ts,
        book_age_ms=_age_ms(now, view.last_book_ts),
        strategies=[_strategy(s) for s in view.strategies],
    )


def _feed(request: Request) -> LiveFeed:
    feed: LiveFeed | None = request.app.state.live
    if feed is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the live view is not running in this API")
    return feed


_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"description": "the live view is not running in this API"}
}


@router.get("/api/live", response_model=LiveOut, responses=_UNAVAILABLE)
def live(request: Request) -> LiveOut:
    """Every instrument's current window, as the trading flow sees it now."""
    now: datetime = request.app.state.now()
    snap = _feed(request).snapshot(now)
    return LiveOut(
        as_of=now,
        instruments=[_instrument(v, now) for v in snap.instruments],
        events=snap.events,
        malformed=snap.malformed,
        unusable=snap.unusable,
        live_windows=snap.live_windows,
        latest_event_ts=snap.latest_event_ts,
    )


Instrument = Annotated[str, Path(pattern=r"^[a-z0-9]{1,16}-[0-9]{1,6}[smh]$", description="e.g. btc-5m")]


@router.get(
    "/api/live/{instrument}",
    response_model=InstrumentOut,
    responses={**_UNAVAILABLE, 404: {"description": "no window of that instrument is open now"}},
)
def live_instrument(instrument: Instrument, request: Request) -> InstrumentOut:
    """One instrument's current window."""
    now: datetime = request.app.state.now()
    for view in _feed(request).snapshot(now).instruments:
        if view.instrument == instrument:
            return _instrument(view, now)
    raise HTTPException(status.HTTP_404_NOT_FOUND, f"no window of {instrument} is open now")
