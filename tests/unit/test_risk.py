"""check_risk: each rule refuses on its own, and no input gets an approval past any cap."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.enums import KillSwitch, OrderType, Outcome, Side, WindowPhase
from core.ids import WindowId
from core.models import Signal
from core.order_amounts import limit_order_amounts, marketable_precision_ok
from core.risk import (
    MAX_ORDERS_PER_WINDOW_INSTRUMENT,
    Approved,
    Exposure,
    Rejected,
    RiskLimits,
    check_risk,
    order_size,
)
from tests.trading_builders import START, UP, controls

NOW = START + timedelta(seconds=200)
END = START + timedelta(seconds=300)


def _signal(
    price: str = "0.60", notional: str = "1", strategy: str = "canary", side: Side = Side.BUY
) -> Signal:
    return Signal(
        signal_id="sig-1",
        window_id=WindowId("btc-updown-5m-1780906500"),
        strategy=strategy,
        token_id=UP,
        outcome=Outcome.UP,
        side=side,
        limit_price=Decimal(price),
        notional_usd=Decimal(notional),
        event_ts=NOW,
    )


def _exposure(**kw: object) -> Exposure:
    base = Exposure(
        instrument="btc-5m",
        window_start=START,
        window_end=END,
        window_phase=WindowPhase.OPEN,
        orders_in_window=0,
        position_usd=Decimal(0),
        session_pnl_usd=Decimal(0),
        day_pnl_usd=Decimal(0),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def test_a_signal_within_every_limit_is_approved_as_fak_at_the_signals_limit_price() -> None:
    result = check_risk(_signal("0.61"), controls(NOW), _exposure(), NOW)
    assert isinstance(result, Approved)
    assert result.order_type is OrderType.FAK
    assert result.limit_price == Decimal("0.61")
    # ceil(1 / 0.61, 2 dp) is 1.64, but 1.64 x 0.61 = 1.0004 has more than the 2 cost decimals a
    # marketable order may carry: the smallest size the venue accepts at 0.61 is 2 shares.
    assert result.size == Decimal("2")
    assert result.cost_usd >= Decimal(1)


@pytest.mark.parametrize(
    ("rule", "signal", "ctl", "exposure", "now"),
    [
        ("no_controls", _signal(), None, _exposure(), NOW),
        ("controls_stale", _signal(), controls(NOW - timedelta(seconds=2)), _exposure(), NOW),
        ("data_stale", _signal(), controls(NOW + timedelta(seconds=2)), _exposure(), NOW),
        ("kill_switch", _signal(), controls(NOW, kill_switch="PAUSE"), _exposure(), NOW),
        ("kill_switch", _signal(), controls(NOW, kill_switch="FLATTEN"), _exposure(), NOW),
        ("kill_switch", _signal(), controls(NOW, kill_switch="EMERGENCY"), _exposure(), NOW),
        ("strategy_not_allowed", _signal(strategy="other"), controls(NOW), _exposure(), NOW),
        ("strategy_not_allowed", _signal(), controls(NOW, strategies="[]"), _exposure(), NOW),
        ("instrument_not_allowed", _signal(), controls(NOW), _exposure(instrument="sol-5m"), NOW),
        (
            "window_not_open",
            _signal(),
            controls(START - timedelta(seconds=1)),
            _exposure(),
            START - timedelta(seconds=1),
        ),
        ("window_closed", _signal(), controls(END), _exposure(), END),
        ("window_closed", _signal(), controls(NOW), _exposure(window_phase=WindowPhase.CLOSED), NOW),
        (
            "too_little_time",
            _signal(),
            controls(END - timedelta(seconds=5)),
            _exposure(),
            END - timedelta(seconds=5),
        ),
        ("max_orders_per_window", _signal(), controls(NOW), _exposure(orders_in_window=2), NOW),
        ("unsupported_side", _signal(side=Side.SELL), controls(NOW), _exposure(), NOW),
        ("bad_limit_price", _signal("1"), controls(NOW), _exposure(), NOW),
        ("bad_limit_price", _signal("0"), controls(NOW), _exposure(), NOW),
        ("below_venue_minimum", _signal(notional="0.5"), controls(NOW), _exposure(), NOW),
        ("price_off_tick", _signal("0.605"), controls(NOW), _exposure(), NOW),
        ("price_off_tick", _signal("0.60"), controls(NOW), _exposure(tick=Decimal("0.003")), NOW),
        ("max_position_usd", _signal(), controls(NOW), _exposure(position_usd=Decimal("4.5")), NOW),
        ("max_session_loss", _signal(), controls(NOW), _exposure(session_pnl_usd=Decimal("-24.5")), NOW),
        (
            "max_daily_drawdown",
            _signal(),
            controls(NOW, max_loss="1000"),
            _exposure(day_pnl_usd=Decimal("-49.5")),
            NOW,
        ),
    ],
)
def test_each_rule_rejects_and_names_itself(rule, signal, ctl, exposure, now) -> None:
    result = check_risk(signal, ctl, exposure, now)
    assert isinstance(result, Rejected)
    assert result.rule == rule


def test_order_size_never_costs_less_than_the_notional() -> None:
    assert order_size(Decimal(1), Decimal("0.57")) * Decimal("0.57") >= 1


money = st.decimals(min_value=0, max_value=100, places=2)
prices = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("0.999"), places=3)


@settings(max_examples=400, deadline=None)
@given(
    price=prices,
    notional=st.decimals(min_value=Decimal("0.01"), max_value=50, places=2),
    max_position=money,
    max_loss=money,
    position=money,
    session_loss=money,
    day_loss=money,
    orders=st.integers(min_value=0, max_value=5),
    kill=st.sampled_from(list(KillSwitch)),
    offset_s=st.integers(min_value=-400, max_value=400),
    age_ms=st.integers(min_value=0, max_value=3000),
    phase=st.sampled_from(list(WindowPhase)),
)
def test_check_risk_never_approves_past_any_cap(
    price,
    notional,
    max_position,
    max_loss,
    position,
    session_loss,
    day_loss,
    orders,
    kill,
    offset_s,
    age_ms,
    phase,
) -> None:
    now = START + timedelta(seconds=offset_s)
    ctl = controls(
        now - timedelta(milliseconds=age_ms),
        kill_switch=kill.value,
        max_position=str(max_position),
        max_loss=str(max_loss),
    )
    limits = RiskLimits()
    exposure = _exposure(
        orders_in_window=orders,
        position_usd=position,
        session_pnl_usd=-session_loss,
        day_pnl_usd=-day_loss,
        window_phase=phase,
    )
    result = check_risk(_signal(str(price), str(notional)), ctl, exposure, now, limits)
    if isinstance(result, Approved):
        assert kill is KillSwitch.RUN
        assert orders < MAX_ORDERS_PER_WINDOW_INSTRUMENT
        assert position + result.cost_usd <= max_position
        assert session_loss + result.cost_usd <= max_loss
        assert day_loss + result.cost_usd <= limits.max_daily_drawdown_usd
        assert START <= now < END and END - now >= limits.min_time_left
        assert phase in (WindowPhase.DISCOVERED, WindowPhase.OPEN)
        assert age_ms <= 1000
        assert result.limit_price == price and result.cost_usd >= 1


@settings(max_examples=100, deadline=None)
@given(n=st.integers(min_value=3, max_value=10))
def test_a_window_never_gets_a_third_order_however_many_signals_come(n) -> None:
    ctl = controls(NOW, max_position="1000", max_loss="1000")
    placed = Decimal(0)
    approved = 0
    for _ in range(n):
        result = check_risk(_signal(), ctl, _exposure(orders_in_window=approved, position_usd=placed), NOW)
        if isinstance(result, Approved):
            approved += 1
            placed += result.cost_usd
    assert approved == MAX_ORDERS_PER_WINDOW_INSTRUMENT


@settings(max_examples=500, deadline=None)
@given(
    tick=st.sampled_from([Decimal("0.01"), Decimal("0.001")]),
    units=st.integers(min_value=1, max_value=999),
    notional=st.decimals(min_value=Decimal("0.01"), max_value=20, places=2),
)
def test_every_size_risk_emits_is_accepted_by_the_venues_marketable_precision(tick, units, notional) -> None:
    """The FAK risk approves is signed as the client signs it (`limit_order_amounts`) and passes the
    venue's FOK/FAK precision rule (`marketable_precision_ok`, which the simulated fills apply)."""
    price = (units * tick) if tick == Decimal("0.001") else (Decimal(units % 99 + 1) * tick)
    ctl = controls(NOW, max_position="1000", max_loss="1000")
    limits = RiskLimits(max_daily_drawdown_usd=Decimal(1000))
    result = check_risk(_signal(str(price), str(notional)), ctl, _exposure(tick=tick), NOW, limits)
    if isinstance(result, Rejected):
        assert result.rule == "below_venue_minimum", result
        return
    amounts = limit_order_amounts(Side.BUY, result.size, result.limit_price, tick)
    assert marketable_precision_ok(amounts), (result.size, price, amounts)
    assert amounts.shares_micros == result.size * 1_000_000  # the client signs exactly this size
    assert result.cost_usd == result.size * price >= max(notional, Decimal(1))
