"""Trading fees from the market's own fee schedule (POLYMARKET.md §6.7): the one definition.

Every mode charges fees through `trade_fee`: LIVE books the venue's fills with it (the user
channel's `fee_rate_bps` is only the V1 signed ceiling), DRY_RUN, PAPER and BACKTEST simulate with
it, and settlement P&L subtracts what it returned. The schedule comes from Gamma's `feeSchedule`
(`{"rate": 0.07, "exponent": 1, "takerOnly": true, "rebateRate": 0.2}`, gated by `feesEnabled`) or
the CLOB V2 market's `fd` (`{"r", "e", "to"}`).

The venue charges the taker `shares * rate * (p * (1 - p)) ** exponent` in collateral, rounded to
5 decimals (half up), per trade; makers pay nothing. Exponents other than 1 and 2 have not been
verified and are refused. Pure: Decimal only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from core.money import parse_decimal

__all__ = [
    "FEE_QUANTUM",
    "NO_FEES",
    "VERIFIED_EXPONENTS",
    "FeeSchedule",
    "FeeScheduleError",
    "fee_per_share",
    "fee_schedule_from_clob",
    "fee_schedule_from_gamma",
    "trade_fee",
]

FEE_QUANTUM = Decimal("0.00001")
"""The venue rounds a trade's fee to 5 decimals of collateral."""
VERIFIED_EXPONENTS = frozenset({1, 2})
_ZERO = Decimal(0)
_ONE = Decimal(1)


class FeeScheduleError(ValueError):
    """A fee schedule we cannot charge by: missing fields, a rate outside [0, 1), an unverified exponent."""


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """One market's fees: `rate` and `exponent` of the curve, `taker_only`, and the makers' rebate share."""

    rate: Decimal
    exponent: int = 1
    taker_only: bool = True
    rebate_rate: Decimal = _ZERO

    def __post_init__(self) -> None:
        if not _ZERO <= self.rate < _ONE:
            raise FeeScheduleError(f"fee rate must be in [0, 1): {self.rate}")
        if self.exponent not in VERIFIED_EXPONENTS:
            raise FeeScheduleError(f"unverified fee exponent: {self.exponent}")
        if not _ZERO <= self.rebate_rate <= _ONE:
            raise FeeScheduleError(f"rebate rate must be in [0, 1]: {self.rebate_rate}")


NO_FEES = FeeSchedule(rate=_ZERO)
"""A market with `feesEnabled` false."""


def _number(value: Any, name: str) -> Decimal:
    # Gamma sends JSON numbers; the shortest repr of a parsed float is the wire's own text ("0.07").
    if isinstance(value, float):
        value = repr(value)
    try:
        return parse_decimal(value)
    except ValueError as exc:
        raise FeeScheduleError(f"{name}: {exc}") from exc


def _exponent(value: Any) -> int:
    number = _number(value, "exponent")
    if number != number.to_integral_value():
        raise FeeScheduleError(f"unverified fee exponent: {value!r}")
    return int(number)


def fee_schedule_from_gamma(market: Mapping[str, Any]) -> FeeSchedule:
    """The schedule of a Gamma market object (its `feesEnabled` and `feeSchedule` fields)."""
    if market.get("feesEnabled") is False:
        return NO_FEES
    schedule = market.get("feeSchedule")
    if not isinstance(schedule, Mapping) or "rate" not in schedule:
        raise FeeScheduleError(f"market has no usable feeSchedule: {schedule!r}")
    return FeeSchedule(
        rate=_number(schedule["rate"], "rate"),
        exponent=_exponent(schedule.get("exponent", 1)),
        taker_only=bool(schedule.get("takerOnly", True)),
        rebate_rate=_number(schedule.get("rebateRate", 0), "rebateRate"),
    )


def fee_schedule_from_clob(fd: Mapping[str, Any]) -> FeeSchedule:
    """The schedule of a CLOB V2 `GET /clob-markets/{cid}` answer's `fd` object (`r`, `e`, `to`)."""
    if "r" not in fd:
        raise FeeScheduleError(f"fee data has no rate: {fd!r}")
    return FeeSchedule(
        rate=_number(fd["r"], "r"),
        exponent=_exponent(fd.get("e", 1)),
        taker_only=bool(fd.get("to", True)),
    )


def fee_per_share(schedule: FeeSchedule, price: Decimal) -> Decimal:
    """The unrounded fee of one share traded at `price`: `rate * (p * (1 - p)) ** exponent`."""
    if not _ZERO <= price <= _ONE:
        raise ValueError(f"price must be in [0, 1]: {price}")
    return schedule.rate * (price * (_ONE - price)) ** schedule.exponent


def trade_fee(schedule: FeeSchedule, shares: Decimal, price: Decimal, *, is_maker: bool = False) -> Decimal:
    """The fee of one trade of `shares` at `price`, in collateral, as the venue charges it.

    Rounded to 5 decimals half up. A maker pays nothing under a taker-only schedule; under any
    other (none has been seen) the maker is charged like the taker.
    """
    if shares < _ZERO:
        raise ValueError(f"shares must be >= 0: {shares}")
    if schedule.rate == _ZERO or (is_maker and schedule.taker_only):
        return _ZERO
    return (shares * fee_per_share(schedule, price)).quantize(FEE_QUANTUM, rounding=ROUND_HALF_UP)
