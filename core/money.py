"""Money and quantities as Decimal parsed from the wire's strings; never floats.

`Price` is a probability price in [0, 1]; `Size` counts shares; `Usd` is signed dollars (P&L,
balances). Floats are refused at the boundary because a float cannot hold "0.57" exactly.
Signed orders carry integer micro-units (6 decimals): `to_micros` / `from_micros` convert.
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation
from typing import Annotated, Any

from annotated_types import Ge, Le
from pydantic import BeforeValidator, PlainSerializer

MICROS_PER_UNIT = 1_000_000
# Exact scaling: the default 28-digit context would round large integers.
_EXACT = Context(prec=200)


def parse_decimal(value: Any) -> Decimal:
    """Exact Decimal from a wire string, int or Decimal; floats and non-finite values are refused."""
    if isinstance(value, bool | float):
        raise ValueError(f"money must come as a string or integer, not {type(value).__name__}: {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int | str):
        try:
            result = Decimal(value)
        except InvalidOperation as exc:
            raise ValueError(f"not a decimal number: {value!r}") from exc
    else:
        raise ValueError(f"not a decimal number: {value!r}")
    if not result.is_finite():
        raise ValueError(f"not a finite decimal: {value!r}")
    return result


_DecimalIn = BeforeValidator(parse_decimal)
_DecimalOut = PlainSerializer(lambda d: str(d), return_type=str, when_used="json")

Price = Annotated[Decimal, _DecimalIn, Ge(Decimal(0)), Le(Decimal(1)), _DecimalOut]
Size = Annotated[Decimal, _DecimalIn, Ge(Decimal(0)), _DecimalOut]
Usd = Annotated[Decimal, _DecimalIn, _DecimalOut]
PositiveUsd = Annotated[Decimal, _DecimalIn, Ge(Decimal(0)), _DecimalOut]
"""A non-negative dollar amount: caps, limits, balances."""
OraclePrice = Annotated[Decimal, _DecimalIn, Ge(Decimal(0)), _DecimalOut]
"""An asset price in USD from an oracle or exchange (BTC ~ 100000)."""


def to_micros(amount: Decimal) -> int:
    """Decimal units -> integer micro-units; refuses amounts finer than one micro-unit."""
    micros = amount.scaleb(6, _EXACT)
    if micros != micros.to_integral_value():
        raise ValueError(f"{amount} has more than 6 decimals")
    return int(micros)


def from_micros(micros: int | str) -> Decimal:
    """Integer micro-units (as the signed order carries them) -> exact Decimal units."""
    return Decimal(int(micros)).scaleb(-6, _EXACT)


def from_e18(value: int | str) -> Decimal:
    """An E18-scaled integer string (Chainlink's `full_accuracy_value`) -> exact Decimal."""
    return Decimal(int(value)).scaleb(-18, _EXACT)
