"""The window step: decisions become signals plus an intent or a rejection, with ids that repeat
when the same events are replayed, and state that is dropped when the window ends."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import ClassVar

from core.enums import OrderType, Outcome, TradingMode, WindowPhase
from core.intents import client_order_id_for, signal_id_for
from core.models import IntentRejected, OrderIntent, Signal
from core.routing import ControlsUpdate, Expire, WindowInput
from core.strategies import StrategyParams, build_strategy
from core.strategies.base import make_signal
from core.window_engine import Desk, step
from core.window_state import WindowState
from tests.trading_builders import DOWN, START, UP, WINDOW, book, controls, oracle, window

END = START + timedelta(seconds=300)
T60 = END - timedelta(seconds=60)


def _run(kill_switch: str = "RUN", repeat: int = 1) -> list[object]:
    desk = Desk(strategies=(build_strategy("canary"),))
    state: WindowState | None = None
    out: list[object] = []
    items: list[WindowInput] = [
        window(),
        oracle(START, "100000"),
        book(UP, START + timedelta(seconds=1), "0.60", "0.62"),
        book(DOWN, START + timedelta(seconds=1), "0.38", "0.40"),
        ControlsUpdate(controls(T60, kill_switch=kill_switch)),
    ]
    items += [book(UP, T60 + timedelta(milliseconds=i), "0.60", "0.62") for i in range(repeat)]
    for item in items:
        state, produced = step(state, item, desk)
        out.extend(produced)
    return out


def test_the_canary_at_t_minus_60_gives_a_signal_and_an_intent_with_its_decision_context() -> None:
    out = _run()
    assert [type(o) for o in out] == [Signal, OrderIntent]
    signal, intent = out
    assert isinstance(signal, Signal) and isinstance(intent, OrderIntent)
    assert intent.signal_id == signal.signal_id == signal_id_for(WINDOW, "canary", 0)
    assert intent.client_order_id == client_order_id_for(signal.signal_id)
    assert (intent.order_type, intent.limit_price, intent.size) == (
        OrderType.FAK,
        Decimal("0.62"),
        Decimal("2.00"),  # $1 at 0.62 in a size whose cost is on whole cents (core.risk.order_size)
    )
    assert intent.mode is TradingMode.DRY_RUN
    ctx = intent.context
    assert ctx is not None
    assert ctx.strike == Decimal("100000") and ctx.reference_price == Decimal("100000")
    assert ctx.up_asks[0].price == Decimal("0.62") and ctx.down_bids[0].price == Decimal("0.38")
    assert ctx.signal == signal and ctx.controls_version == 1 and ctx.event_ts == T60
    assert ctx.risk_result.startswith("APPROVED")


def test_replaying_the_same_events_repeats_the_same_ids() -> None:
    first, second = _run(), _run()
    assert [o.client_order_id for o in first if isinstance(o, OrderIntent)] == [
        o.client_order_id for o in second if isinstance(o, OrderIntent)
    ]


def test_a_paused_desk_publishes_the_rejection_with_its_rule_and_signals_once() -> None:
    out = _run(kill_switch="PAUSE", repeat=5)
    assert [type(o) for o in out] == [Signal, IntentRejected]
    rejection = out[1]
    assert isinstance(rejection, IntentRejected) and rejection.rule == "kill_switch"
    assert rejection.controls_version == 1


def test_state_is_dropped_when_the_window_resolves_or_expires() -> None:
    desk = Desk(strategies=())
    state, _ = step(None, window(), desk)
    assert state is not None
    resolved, _ = step(state, window(WindowPhase.RESOLVED, at=END + timedelta(seconds=30)), desk)
    assert resolved is None
    state, _ = step(None, window(), desk)
    assert step(state, Expire(END + timedelta(hours=2)), desk)[0] is None
    assert step(None, window(WindowPhase.RESOLVED), desk)[0] is None


class _Eager:
    """A strategy that wants to buy Up on every event: only risk stands in its way."""

    name: ClassVar[str] = "eager"
    params_type: ClassVar[type[StrategyParams]] = StrategyParams

    def evaluate(self, state: WindowState, now: datetime) -> Signal | None:
        return make_signal(state, self.name, Outcome.UP, Decimal("0.50"), Decimal(1), now, "always")


def test_a_window_never_gets_a_third_order_from_a_strategy_that_keeps_asking() -> None:
    desk = Desk(strategies=(_Eager(),))
    state, _ = step(None, window(), desk)
    ctl = controls(START + timedelta(seconds=10), strategies='["eager"]', max_position="100")
    state, _ = step(state, ControlsUpdate(ctl), desk)
    out: list[object] = []
    for i in range(6):
        state, produced = step(
            state, book(UP, START + timedelta(seconds=10, milliseconds=i), "0.4", "0.5"), desk
        )
        out.extend(produced)
    intents = [o for o in out if isinstance(o, OrderIntent)]
    rejections = [o for o in out if isinstance(o, IntentRejected)]
    assert len(intents) == 2 and len({i.client_order_id for i in intents}) == 2
    assert [r.rule for r in rejections] == ["max_orders_per_window"] * 4
