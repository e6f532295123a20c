"""Reconciliation's comparison: what differs between our records and the venue, and what is a repair."""

from __future__ import annotations

from decimal import Decimal

from core.enums import OrderStatus, Side
from core.reconciliation import (
    OurFill,
    OurOrder,
    Records,
    VenueOrder,
    VenueState,
    VenueTrade,
    compare,
)

UP, DOWN, CID = "101", "102", "0x" + "ab" * 32
D = Decimal


def ours(**kw: object) -> Records:
    base: dict[str, object] = {
        "orders": (OurOrder("0xo1", UP, Side.BUY, D(5), D(0), OrderStatus.LIVE),),
        "fills": (OurFill("t1", "0xo0", UP, Side.BUY, D(10)),),
        "positions": {UP: D(10)},
        "tokens": {UP: CID},
        "expected_collateral": D(995),
    }
    base.update(kw)
    return Records(**base)  # type: ignore[arg-type]


def venue(**kw: object) -> VenueState:
    base: dict[str, object] = {
        "open_orders": (VenueOrder("0xo1", UP, Side.BUY, D(5), D(0), "LIVE"),),
        "our_orders": {"0xo1": VenueOrder("0xo1", UP, Side.BUY, D(5), D(0), "LIVE")},
        "trades": (VenueTrade("t1", "0xo0", UP, Side.BUY, D(10), "CONFIRMED"),),
        "token_balances": {UP: D(10)},
        "token_markets": {UP: CID},
        "collateral": D(995),
    }
    base.update(kw)
    return VenueState(**base)  # type: ignore[arg-type]


def kinds(result: object) -> list[str]:
    return sorted(m.kind for m in result.mismatches)  # type: ignore[attr-defined]


def test_agreeing_records_reconcile_clean() -> None:
    result = compare(ours(), venue())
    assert result.clean and not result.missing_fills and not result.settles


def test_an_order_the_venue_has_and_we_do_not_is_a_mismatch_naming_it() -> None:
    stranger = VenueOrder("0xzz", DOWN, Side.BUY, D(5), D(0), "LIVE")
    result = compare(ours(), venue(open_orders=(*venue().open_orders, stranger)))
    assert kinds(result) == ["venue_order_not_ours"]
    assert result.mismatches[0].subject == "0xzz" and "0xzz" in result.cause


def test_a_collateral_balance_changed_from_outside_is_a_mismatch_naming_both_amounts() -> None:
    result = compare(ours(), venue(collateral=D(900)))
    assert kinds(result) == ["collateral"]
    assert "900" in result.mismatches[0].detail and "995" in result.mismatches[0].detail


def test_no_expected_collateral_skips_the_collateral_check() -> None:
    assert compare(ours(expected_collateral=None), venue(collateral=D(900))).clean


def test_a_token_balance_that_disagrees_with_our_positions_is_a_mismatch() -> None:
    assert kinds(compare(ours(), venue(token_balances={UP: D(3)}))) == ["position"]


def test_a_trade_on_our_order_we_lack_is_a_repair_not_a_mismatch() -> None:
    late = VenueTrade("t2", "0xo1", UP, Side.BUY, D(5), "MATCHED")
    view = VenueOrder("0xo1", UP, Side.BUY, D(5), D(5), "MATCHED")
    result = compare(
        ours(),
        venue(
            open_orders=(),
            our_orders={"0xo1": view},
            trades=(*venue().trades, late),
            token_balances={UP: D(15)},
        ),
    )
    assert result.clean
    assert [t.trade_id for t in result.missing_fills] == ["t2"]
    assert result.settles == (view,)


def test_a_trade_on_an_order_not_ours_is_a_mismatch() -> None:
    odd = VenueTrade("t9", "0xnot", UP, Side.BUY, D(1), "CONFIRMED")
    assert "trade_not_ours" in kinds(
        compare(ours(), venue(trades=(*venue().trades, odd), token_balances={UP: D(11)}))
    )


def test_a_fill_we_have_that_the_venue_does_not_know_is_a_mismatch() -> None:
    assert "fill_unknown_at_venue" in kinds(compare(ours(), venue(trades=(), token_balances={UP: D(10)})))


def test_a_live_order_of_ours_the_venue_does_not_have_is_a_mismatch() -> None:
    result = compare(ours(), venue(open_orders=(), our_orders={}))
    assert kinds(result) == ["order_missing_at_venue"]


def test_an_unknown_order_the_venue_does_not_have_is_settled_not_a_mismatch() -> None:
    unknown = OurOrder("0xo1", UP, Side.BUY, D(5), D(0), OrderStatus.UNKNOWN)
    result = compare(ours(orders=(unknown,)), venue(open_orders=(), our_orders={}))
    assert result.clean and result.not_at_venue == ("0xo1",)


def test_token_ids_are_checked_against_the_venue() -> None:
    assert kinds(compare(ours(), venue(token_markets={}))) == ["token_unknown"]
    assert kinds(compare(ours(), venue(token_markets={UP: "0x" + "cd" * 32}))) == ["token_market"]


def test_a_failed_trade_counts_for_nothing() -> None:
    failed = VenueTrade("t1", "0xo0", UP, Side.BUY, D(10), "FAILED")
    result = compare(ours(fills=(), positions={}), venue(trades=(failed,), token_balances={UP: D(0)}))
    assert result.clean


def test_the_collateral_check_waits_for_trade_repairs() -> None:
    late = VenueTrade("t2", "0xo1", UP, Side.BUY, D(5), "MATCHED")
    result = compare(
        ours(), venue(trades=(*venue().trades, late), token_balances={UP: D(15)}, collateral=D(992))
    )
    assert result.clean and result.recheck


def test_an_unknown_order_the_venue_filled_is_one_repair_settling_it_from_the_venues_answer() -> None:
    from core.enums import OrderType
    from core.orders import OrderState, apply

    unknown = OurOrder("0xo1", UP, Side.BUY, D(5), D(0), OrderStatus.UNKNOWN, "c-1")
    done = VenueOrder("0xo1", UP, Side.BUY, D(5), D(5), "MATCHED")
    late = VenueTrade("t2", "0xo1", UP, Side.BUY, D(5), "CONFIRMED", D("0.5"))
    result = compare(
        ours(orders=(unknown,)),
        venue(
            open_orders=(),
            our_orders={"0xo1": done},
            trades=(*venue().trades, late),
            token_balances={UP: D(15)},
        ),
    )
    assert result.clean
    (repair,) = result.repairs
    assert (repair.client_order_id, repair.trades, repair.reason) == ("c-1", (late,), "trades_missing")
    order = OrderState("c-1", OrderType.FAK, D(5), status=OrderStatus.UNKNOWN)
    for event in repair.events:
        order = apply(order, event)
    assert (order.status, order.size_matched, order.settled) == (OrderStatus.FILLED, D(5), True)


def test_an_unknown_order_the_venue_never_got_is_a_not_at_venue_repair() -> None:
    from core.orders import NotAtVenue

    unknown = OurOrder("0xo1", UP, Side.BUY, D(5), D(0), OrderStatus.UNKNOWN, "c-1")
    (repair,) = compare(ours(orders=(unknown,)), venue(open_orders=(), our_orders={})).repairs
    assert repair.events == (NotAtVenue(),) and repair.reason == "not_at_venue"


def test_a_trade_we_lack_on_an_order_we_hold_settled_is_a_mismatch_not_a_repair() -> None:
    """Its position may have been exited or closed since: rebuilding it is not safe."""
    late = VenueTrade("t2", "0xo0", UP, Side.BUY, D(5), "CONFIRMED", D("0.5"))
    result = compare(
        ours(orders=()),
        venue(open_orders=(), our_orders={}, trades=(*venue().trades, late), token_balances={UP: D(15)}),
    )
    assert kinds(result) == ["fill_missing"] and not result.repairs


def test_a_venue_position_we_do_not_know_is_never_a_repair() -> None:
    result = compare(ours(), venue(token_balances={UP: D(10), DOWN: D(7)}))
    assert kinds(result) == ["position"] and not result.repairs
