"""core.execution_guards: every entry rule refuses on its own; UNKNOWN blocks re-entry until settled."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.enums import OrderType, Side, TradingMode
from core.execution_guards import (
    Allowed,
    Blocked,
    EntryContext,
    ExecutionLimits,
    check_entry,
    exit_client_order_id,
    order_metadata,
)
from core.fees import FeeSchedule, trade_fee
from core.ids import ClientOrderId
from core.intents import client_order_id_for, signal_id_for
from core.models import OrderIntent
from core.orders import NoAnswer, OrderState, Posted, VenueView, apply
from tests.trading_builders import START, UP, WINDOW

D = Decimal
CRYPTO = FeeSchedule(D("0.07"), 1, True, D("0.2"))
VID = "0x" + "cd" * 32


def _intent(ordinal: int = 0, size: str = "5", price: str = "0.60") -> OrderIntent:
    sid = signal_id_for(WINDOW, "canary", ordinal)
    return OrderIntent(
        client_order_id=client_order_id_for(sid),
        signal_id=sid,
        window_id=WINDOW,
        strategy="canary",
        token_id=UP,
        side=Side.BUY,
        order_type=OrderType.FAK,
        limit_price=D(price),
        size=D(size),
        mode=TradingMode.DRY_RUN,
        event_ts=START + timedelta(seconds=60),
    )


def _order(intent: OrderIntent, settled: bool = True, unknown: bool = False) -> OrderState:
    o = apply(OrderState(intent.client_order_id, OrderType.FAK, intent.size), Posted(VID))
    if unknown:
        return apply(o, NoAnswer("timeout"))
    return apply(o, VenueView(intent.size, resting=False)) if settled else o


CTX = EntryContext(window_orders=(), position_usd=D(0), available_usd=D(100), day_pnl_usd=D(0))


def test_a_clean_entry_is_allowed_with_its_cost_and_fee() -> None:
    assert check_entry(_intent(), CTX, CRYPTO) == Allowed(D("3.00"), trade_fee(CRYPTO, D("5"), D("0.60")))


@pytest.mark.parametrize(
    ("intent", "context", "rule"),
    [
        (_intent().model_copy(update={"client_order_id": ClientOrderId("pw-forged-0001")}), CTX, "intent_id"),
        (_intent(), replace(CTX, window_orders=(_order(_intent()),)), "duplicate_intent"),
        (_intent(1), replace(CTX, window_orders=(_order(_intent(), unknown=True),)), "unknown_order"),
        (_intent(1), replace(CTX, window_orders=(_order(_intent(), settled=False),)), "order_in_flight"),
        (
            _intent(2),
            replace(CTX, window_orders=(_order(_intent()), _order(_intent(1)))),
            "max_orders_per_window",
        ),
        (_intent(), replace(CTX, position_usd=D("2.01")), "max_position_usd"),
        (_intent(), replace(CTX, day_pnl_usd=D("-17.01")), "daily_drawdown"),
        (_intent(), replace(CTX, available_usd=D("3.05")), "balance"),
    ],
)
def test_each_rule_refuses_on_its_own(intent: OrderIntent, context: EntryContext, rule: str) -> None:
    result = check_entry(intent, context, CRYPTO)
    assert isinstance(result, Blocked) and result.rule == rule


def test_limits_at_their_edge_still_allow() -> None:
    fee = trade_fee(CRYPTO, D("5"), D("0.60"))
    ctx = replace(CTX, position_usd=D("2.00"), day_pnl_usd=D("-17.00"), available_usd=D("3.00") + fee)
    assert isinstance(check_entry(_intent(), ctx, CRYPTO), Allowed)


def test_unknown_blocks_until_the_venue_settles_it() -> None:
    unknown = _order(_intent(), unknown=True)
    ctx = replace(CTX, window_orders=(unknown,))
    assert isinstance(check_entry(_intent(1), ctx, CRYPTO), Blocked)
    settled = apply(unknown, VenueView(D("0"), resting=False))
    assert isinstance(check_entry(_intent(1), replace(ctx, window_orders=(settled,)), CRYPTO), Allowed)


@given(
    st.integers(1, 2000).map(lambda c: D(c) / 100),
    st.integers(1, 99).map(lambda c: D(c) / 100),
    st.integers(0, 1000).map(lambda c: D(c) / 100),
    st.integers(0, 10_000).map(lambda c: D(c) / 100),
    st.integers(-3000, 3000).map(lambda c: D(c) / 100),
)
def test_no_allowed_entry_breaks_a_cap(
    size: Decimal, price: Decimal, position: Decimal, balance: Decimal, day: Decimal
) -> None:
    ctx = EntryContext((), position, balance, day)
    result = check_entry(_intent(size=str(size), price=str(price)), ctx, CRYPTO, ExecutionLimits())
    cost = size * price
    if isinstance(result, Allowed):
        assert position + cost <= 5
        assert -day + cost <= 20
        assert cost + trade_fee(CRYPTO, size, price) <= balance
    else:
        assert position + cost > 5 or -day + cost > 20 or cost + trade_fee(CRYPTO, size, price) > balance


def test_ids_are_deterministic_and_distinct() -> None:
    a, b = _intent(0).client_order_id, _intent(1).client_order_id
    assert order_metadata(a) == order_metadata(a) != order_metadata(b)
    assert len(order_metadata(a)) == 66 and order_metadata(a).startswith("0x")
    assert exit_client_order_id("pos-1") == exit_client_order_id("pos-1") != exit_client_order_id("pos-2")
    assert exit_client_order_id("pos-1") != client_order_id_for("pos-1")
