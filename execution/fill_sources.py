"""What the mode chooses at start-up: how an order is built, and where its fills come from.

- `SignedOrders` (LIVE, DRY_RUN): the order signed through py-clob-client-v2, its `metadata` the
  bytes32 derived from the client order id; `UnsignedOrders` (PAPER, BACKTEST): the same order
  described, with a derived venue-shaped id.
- `VenueFills` (LIVE): POST the stored body, then the confirmation loop (poll the order, 5 s by
  default) until the venue says it is settled and its trades are final; sizes, prices and fees
  from the venue's trades (fee from the market's schedule, `core.fees`). A retryable refusal
  sends the same body again after the wait; no answer leaves the order UNKNOWN until the venue is
  asked by its id. `resume` asks the venue about a stored order and re-posts its stored body only
  when the venue has no such order.
- `BookFills` (DRY_RUN, PAPER, BACKTEST): `core.fills.simulate_fill` on a book: the one captured
  in the intent's decision context (DRY_RUN; BACKTEST, whose context is the replayed book at event
  time) or the venue's live book (PAPER).

The kill switch and settlement act in every mode through the same code; the mode chooses here only
what touches the venue: `VenueCancels` (LIVE: the venue cancels; EMERGENCY cancels every order of
the account) or `RecordCancels` (the simulated modes: nothing rests anywhere but in our records,
whose open orders the order manager's recovery then settles); the bids an exit is planned on
(`venue_bids`: the venue's book now; BACKTEST: the replayed book the monitor keeps); and how a won
position's payout arrives (`chain_redeem`: LIVE's on-chain redeem, the amount read from the
venue's balance; `paper_redeem`: the shares, credited to the paper balance through the position's
`payout_usd`, no on-chain call).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from py_clob_client_v2.exceptions import PolyApiException

from connectors.polymarket.clob import PostFailed, Venue
from core.enums import OrderType, Side, TradeStatus
from core.execution import (
    TradeSeen,
    decision_book,
    is_duplicate_refusal,
    post_failure_event,
    simulated_events,
    simulated_venue_order_id,
    venue_view,
)
from core.execution_guards import order_metadata
from core.fees import FeeSchedule, trade_fee
from core.fills import FillRequest, simulate_fill
from core.ids import ClientOrderId
from core.models import OrderIntent
from core.money import parse_decimal
from core.orders import (
    ConfirmTimeout,
    NoAnswer,
    NotAtVenue,
    OrderEvent,
    Posted,
    Refused,
    TradeFailed,
    VenueView,
)
from execution.order_manager import BuiltOrder, Placed
from execution.redeem import Redeemer
from execution.user_confirmations import PushedOrders
from sinks.postgres.execution import StoredOrder

__all__ = [
    "BookFills",
    "RecordCancels",
    "SignedOrders",
    "UnsignedOrders",
    "VenueCancels",
    "VenueFills",
    "chain_redeem",
    "context_book",
    "paper_redeem",
    "venue_bids",
    "venue_book",
]

_FINAL_TRADES = (TradeStatus.CONFIRMED, TradeStatus.FAILED)


class SignedOrders:
    def __init__(self, venue: Venue) -> None:
        self._venue = venue

    def build(self, intent: OrderIntent, tick: Decimal) -> BuiltOrder:
        signed = self._venue.sign(
            intent.token_id,
            intent.side,
            intent.limit_price,
            intent.size,
            intent.order_type,
            tick,
            order_metadata(intent.client_order_id),
        )
        return BuiltOrder(signed.venue_order_id, signed.body)


class UnsignedOrders:
    def build(self, intent: OrderIntent, tick: Decimal) -> BuiltOrder:
        body = {
            "tokenId": intent.token_id,
            "side": intent.side.value,
            "price": str(intent.limit_price),
            "size": str(intent.size),
            "orderType": intent.order_type.value,
            "tick": str(tick),
        }
        return BuiltOrder(simulated_venue_order_id(intent.client_order_id), body)


def _trade(raw: Mapping[str, Any], venue_order_id: str, schedule: FeeSchedule) -> TradeSeen:
    """One venue trade of our order, as the taker or as one of the makers."""
    status = TradeStatus(str(raw["status"]).upper())
    if raw.get("taker_order_id") == venue_order_id:
        size, price = parse_decimal(raw["size"]), parse_decimal(raw["price"])
        return TradeSeen(str(raw["id"]), price, size, trade_fee(schedule, size, price), status)
    maker = next(m for m in raw.get("maker_orders") or [] if m.get("order_id") == venue_order_id)
    size, price = parse_decimal(maker["matched_amount"]), parse_decimal(maker["price"])
    return TradeSeen(str(raw["id"]), price, size, trade_fee(schedule, size, price, is_maker=True), status)


def _answered(answer: Mapping[str, Any] | None, raw: list[dict[str, Any]], vid: str) -> dict[str, Any] | None:
    """The order as the POST's answer and the channel's trade frames show it, when the channel has
    sent no `order` frame (a marketable order that matched at once has only trades): `matched`
    with the answer's `tradeIDs`, matched as much as those trades (our legs of them) hold, once
    every one of them has arrived; None while any is missing, or when the answer says it rests."""
    if answer is None or str(answer.get("status", "")).upper() != "MATCHED":
        return None
    ids = {str(t) for t in answer.get("tradeIDs") or []}
    seen = {str(t["id"]): t for t in raw}
    if not ids or not ids <= seen.keys():
        return None
    matched = Decimal(0)
    for trade_id in ids:
        trade = seen[trade_id]
        if trade.get("taker_order_id") == vid:
            matched += parse_decimal(trade["size"])
        else:
            legs = [m for m in trade.get("maker_orders") or [] if m.get("order_id") == vid]
            matched += sum((parse_decimal(m["matched_amount"]) for m in legs), Decimal(0))
    return {"status": "MATCHED", "size_matched": str(matched)}


class VenueFills:
    """LIVE's fill source. `pushed`: the user channel's frames (`execution.user_confirmations`), read
    as they come; `poll_s`: how often the venue is asked (None: never during the loop, the user
    channel alone confirms). Either one settles the order, whichever speaks first."""

    def __init__(
        self,
        venue: Venue,
        confirm_s: float = 5.0,
        poll_s: float | None = 0.02,
        retries: int = 5,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        pushed: PushedOrders | None = None,
    ) -> None:
        self._venue = venue
        self._confirm_s = confirm_s
        self._poll_s = poll_s
        self._retries = retries
        self._sleep = sleep
        self._monotonic = monotonic
        self.pushed = pushed
        self.confirmed_by: dict[str, int] = {"user_channel": 0, "poll": 0}

    def place(self, intent: OrderIntent, built: BuiltOrder, tick: Decimal, schedule: FeeSchedule) -> Placed:
        return self._post(built.venue_order_id, built.payload, intent.token_id, schedule, [])

    def resume(self, stored: StoredOrder, schedule: FeeSchedule) -> Placed:
        events: list[OrderEvent] = []
        try:
            record = self._venue.order(stored.venue_order_id)
        except PostFailed as failed:
            return Placed([NoAnswer(str(failed))] if not stored.state.unknown else [], [])
        if record is None:
            body = (stored.payload or {}).get("body")
            if body is None:
                return Placed([NotAtVenue()], [])
            if stored.state.unknown:  # the POST that got no answer never landed: nothing was placed
                return Placed([NotAtVenue()], [])
            # Stored but never sent (the executor died before the POST): send the same body now.
            return self._post(stored.venue_order_id, body, stored.token_id, schedule, events)
        return self._confirm(stored.venue_order_id, stored.token_id, schedule, events)

    def _post(
        self,
        venue_order_id: str,
        body: dict[str, Any],
        token_id: str,
        schedule: FeeSchedule,
        events: list[OrderEvent],
    ) -> Placed:
        answer: Mapping[str, Any] | None = None
        for attempt in range(self._retries + 1):
            try:
                answer = self._venue.post(body)
            except PostFailed as failed:
                if failed.status is not None and is_duplicate_refusal(failed.error):
                    break  # it landed before: confirm it
                event = post_failure_event(failed.status, failed.error)
                events.append(event)
                if isinstance(event, Refused) and event.retryable and attempt < self._retries:
                    self._sleep(failed.retry_after_s if failed.retry_after_s is not None else 1.0)
                    events.append(Posted(venue_order_id))
                    continue
                if isinstance(event, Refused):
                    return Placed(events, [])
                break  # no answer: UNKNOWN; ask the venue
            break
        return self._confirm(venue_order_id, token_id, schedule, events, answer)

    @staticmethod
    def _settled(
        record: Mapping[str, Any], raw: list[dict[str, Any]], vid: str, schedule: FeeSchedule
    ) -> tuple[VenueView, list[TradeSeen], bool]:
        """The order's view and trades from a record and its trades (polled or pushed), and whether
        it is over: nothing rests, every trade is final, and the trades account for all it matched
        (an `order` frame may come before its `trade` frames)."""
        view = venue_view(record)
        trades = [_trade(t, vid, schedule) for t in raw]
        final = all(t.status in _FINAL_TRADES for t in trades)
        whole = sum((t.size for t in trades), Decimal(0)) >= view.size_matched
        return view, trades, not view.resting and final and whole

    def _done(
        self, vid: str, by: str, events: list[OrderEvent], view: VenueView, trades: list[TradeSeen]
    ) -> Placed:
        if self.pushed is not None:
            self.pushed.forget(vid)
        self.confirmed_by[by] += 1
        failed: list[OrderEvent] = [TradeFailed(t.trade_id, t.size) for t in trades if t.failed]
        return Placed([*events, view, *failed], trades)

    def _confirm(
        self,
        venue_order_id: str,
        token_id: str,
        schedule: FeeSchedule,
        events: list[OrderEvent],
        answer: Mapping[str, Any] | None = None,
    ) -> Placed:
        deadline = self._monotonic() + self._confirm_s
        next_poll = self._monotonic()
        last: tuple[VenueView, list[TradeSeen]] | None = None
        while True:
            version = self.pushed.version if self.pushed is not None else 0
            if self.pushed is not None:
                record, raw = self.pushed.seen(venue_order_id)
                record = record if record is not None else _answered(answer, raw, venue_order_id)
                if record is not None:
                    view, trades, over = self._settled(record, raw, venue_order_id, schedule)
                    if over:
                        return self._done(venue_order_id, "user_channel", events, view, trades)
                    last = (view, trades)
            now = self._monotonic()
            if self._poll_s is not None and now >= next_poll:
                next_poll = now + self._poll_s
                try:
                    polled = self._venue.order(venue_order_id)
                    if polled is None:
                        if self.pushed is not None:
                            self.pushed.forget(venue_order_id)
                        return Placed([*events, NotAtVenue()], [])
                    raw = self._venue.trades_of(venue_order_id, token_id)
                except PostFailed:
                    polled = None
                if polled is not None:
                    view, trades, over = self._settled(polled, raw, venue_order_id, schedule)
                    if over:
                        return self._done(venue_order_id, "poll", events, view, trades)
                    last = (view, trades)
            now = self._monotonic()
            if now >= deadline:  # its frames are kept: a later one settles the UNKNOWN order
                seen: list[OrderEvent] = [last[0]] if last is not None else []
                final = [t for t in last[1] if t.status in _FINAL_TRADES] if last is not None else []
                return Placed([*events, *seen, ConfirmTimeout()], final)
            until = deadline if self._poll_s is None else min(deadline, next_poll)
            if self.pushed is not None:
                self.pushed.wait(version, max(0.0, until - now))
            else:
                self._sleep(max(0.0, until - now))


BookFor = Callable[[OrderIntent], Mapping[Decimal, Decimal]]


def context_book(intent: OrderIntent) -> Mapping[Decimal, Decimal]:
    """The book captured in the intent's decision context (DRY_RUN; BACKTEST's replayed book)."""
    return decision_book(intent)


def venue_book(venue: Venue) -> BookFor:
    """The venue's book now (PAPER)."""

    def book(intent: OrderIntent) -> Mapping[Decimal, Decimal]:
        raw = venue.book(intent.token_id)
        side = "asks" if intent.side is Side.BUY else "bids"
        out: dict[Decimal, Decimal] = {}
        for lv in raw.get(side) or []:
            out[parse_decimal(lv["price"])] = parse_decimal(lv["size"])
        return out

    return book


def _walk(
    coid: str,
    side: Side,
    order_type: OrderType,
    limit: Decimal,
    size: Decimal,
    book: Mapping[Decimal, Decimal],
    tick: Decimal,
    schedule: FeeSchedule,
) -> Placed:
    """The one simulated fill (`core.fills.simulate_fill`) as order events and trades."""
    kind = order_type if order_type in (OrderType.FAK, OrderType.FOK) else OrderType.FAK
    fill = simulate_fill(book, FillRequest(side, kind, limit, size, limit), schedule, tick)
    events, trades = simulated_events(ClientOrderId(coid), fill)
    return Placed(list(events), trades)


class BookFills:
    def __init__(self, book: BookFor) -> None:
        self._book = book

    def place(self, intent: OrderIntent, built: BuiltOrder, tick: Decimal, schedule: FeeSchedule) -> Placed:
        book = self._book(intent)
        return _walk(
            intent.client_order_id,
            intent.side,
            intent.order_type,
            intent.limit_price,
            intent.size,
            book,
            tick,
            schedule,
        )

    def resume(self, stored: StoredOrder, schedule: FeeSchedule) -> Placed:
        """A simulated order a crash left unsettled is walked again against the book its decision saw
        (stored with it), so it ends as it would have: the same fill, trade ids and fees. An order
        stored without that book (an exit, or a row from before it was kept) cannot be filled now."""
        payload = stored.payload or {}
        book = payload.get("decision_book")
        if book is None or "tick" not in payload or "size" not in payload:
            return Placed([NotAtVenue()] if stored.state.unknown else [Refused("executor restarted")], [])
        return _walk(
            stored.state.client_order_id,
            Side(payload.get("side", Side.BUY.value)),
            stored.state.order_type,
            parse_decimal(payload["limit_price"]),
            parse_decimal(payload["size"]),
            {parse_decimal(p): parse_decimal(s) for p, s in book},
            parse_decimal(payload["tick"]),
            schedule,
        )


class VenueCancels:
    """LIVE: cancels at the venue through py-clob-client-v2; what it says it cancelled, and why not."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def cancel_all(self) -> tuple[list[str], dict[str, str]]:
        return self._answer(self._client.cancel_all, ["*"])

    def cancel_orders(self, venue_order_ids: list[str]) -> tuple[list[str], dict[str, str]]:
        return self._answer(lambda: self._client.cancel_orders(venue_order_ids), venue_order_ids)

    @staticmethod
    def _answer(call: Callable[[], Any], ids: list[str]) -> tuple[list[str], dict[str, str]]:
        try:
            answer = call()
        except PolyApiException as exc:
            return [], {i: f"cancel failed ({exc.status_code}): {exc.error_msg}" for i in ids}
        body = answer if isinstance(answer, dict) else {}
        done = [str(i) for i in body.get("canceled") or []]
        return done, {str(k): str(v) for k, v in (body.get("not_canceled") or {}).items()}


class RecordCancels:
    """The simulated modes: an order open in our records rests nowhere else; recovery settles it."""

    def __init__(self, open_orders: Callable[[], list[str]]) -> None:
        self._open_orders = open_orders

    def cancel_all(self) -> tuple[list[str], dict[str, str]]:
        return self._open_orders(), {}

    def cancel_orders(self, venue_order_ids: list[str]) -> tuple[list[str], dict[str, str]]:
        return list(venue_order_ids), {}


BidsFor = Callable[[str], Mapping[Decimal, Decimal]]


def venue_bids(venue: Venue) -> BidsFor:
    """A token's bids at the venue now (`{price: size}`): what a kill-switch exit is planned on."""

    def bids(token_id: str) -> Mapping[Decimal, Decimal]:
        raw = venue.book(token_id)
        return {parse_decimal(lv["price"]): parse_decimal(lv["size"]) for lv in raw.get("bids") or []}

    return bids


Redeem = Callable[[str, str, Decimal], Decimal]
"""(condition id, winning token, our shares) -> the payout that arrived in the balance."""


def chain_redeem(redeemer: Redeemer) -> Redeem:
    """LIVE: the on-chain redeem; the payout as the venue's collateral balance shows it."""

    def redeem(condition_id: str, token_id: str, _shares: Decimal) -> Decimal:
        return redeemer.redeem(condition_id, token_id).paid

    return redeem


def paper_redeem(_condition_id: str, _token_id: str, shares: Decimal) -> Decimal:
    """The simulated modes: a won share pays 1, at once (the paper balance counts payouts)."""
    return shares
