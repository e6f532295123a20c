"""What the user channel's frames leave for the confirmation loop, and when the executor reconciles."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from execution.executor_safety import ExecutorSafety
from execution.fill_sources import _answered
from execution.user_confirmations import PushedOrders

KEY = "our-key"


def trade(
    tid: str, status: str, *, taker: str = "0xours", size: str = "4", side: str = "TAKER"
) -> dict[str, Any]:
    return {
        "event_type": "trade",
        "id": tid,
        "taker_order_id": taker,
        "size": size,
        "price": "0.48",
        "status": status,
        "trader_side": side,
        "maker_orders": [
            {"order_id": "0xmaker", "owner": "someone", "matched_amount": size, "price": "0.48"}
        ],
    }


def test_a_trade_only_moves_forward_and_only_our_legs_are_kept() -> None:
    pushed = PushedOrders(KEY)
    pushed.add_frame(json.dumps(trade("t1", "MINED")))
    pushed.add_frame(json.dumps([trade("t1", "MATCHED")]))  # late and out of order
    record, trades = pushed.seen("0xours")
    assert record is None and [t["status"] for t in trades] == ["MINED"]
    assert pushed.seen("0xmaker") == (None, []), "another account's maker leg is not ours"
    pushed.add_frame(json.dumps(trade("t1", "CONFIRMED")))
    assert [t["status"] for t in pushed.seen("0xours")[1]] == ["CONFIRMED"]


def test_entries_are_dropped_when_forgotten_and_beyond_the_cap() -> None:
    pushed = PushedOrders(KEY, max_orders=2)
    for i in range(4):
        pushed.add_frame(json.dumps({"event_type": "order", "id": f"0x{i}", "status": "LIVE"}))
    assert len(pushed) == 2 and pushed.seen("0x0")[0] is None and pushed.seen("0x3")[0] is not None
    pushed.forget("0x3")
    assert len(pushed) == 1
    pushed.add_frame("not json")
    pushed.add_frame("PONG")
    assert pushed.undecodable == 1


def test_a_matched_post_answer_stands_for_the_order_once_all_its_trades_arrived() -> None:
    answer = {"status": "matched", "tradeIDs": ["t1", "t2"]}
    first = trade("t1", "CONFIRMED", size="4")
    assert _answered(answer, [first], "0xours") is None, "t2 not seen yet"
    second = trade("t2", "CONFIRMED", size="2")
    assert _answered(answer, [first, second], "0xours") == {"status": "MATCHED", "size_matched": "6"}
    assert _answered({"status": "live", "tradeIDs": []}, [], "0xours") is None
    assert _answered(None, [first], "0xours") is None


class _Reconciler:
    def __init__(self) -> None:
        self.runs = 0

    def run(self, now: datetime) -> Any:
        self.runs += 1

        class Clean:
            clean = True

        return Clean()


def test_the_executor_reconciles_on_its_period_and_at_the_next_tick_after_a_gap() -> None:
    clock = [0.0]
    reconciler = _Reconciler()
    safety = ExecutorSafety(
        None,  # type: ignore[arg-type]  # the database is only read by gate()
        lambda: datetime(2026, 12, 2, tzinfo=UTC),
        reconciler=reconciler,  # type: ignore[arg-type]
        reconcile_s=60,
        monotonic=lambda: clock[0],
    )
    clock[0] = 30
    safety.tick()
    assert reconciler.runs == 0
    safety.reconcile_soon()  # the user channel came back after a drop
    safety.tick()
    assert reconciler.runs == 1
    clock[0] = 80
    safety.tick()
    assert reconciler.runs == 1, "the period counts from the last run"
    clock[0] = 91
    safety.tick()
    assert reconciler.runs == 2
