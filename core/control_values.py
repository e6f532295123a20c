"""A runtime control's value as the control service takes it: validated by the same rules the
flows apply (`RuntimeControls.with_value`), then put in the one canonical form the table stores
(jsonb) and `ctl.controls` carries (text). Pure."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from core.controls import parse_list
from core.enums import ControlName, KillSwitch, TradingMode
from core.money import parse_decimal

__all__ = ["CanonicalControl", "canonical"]

_NAME = re.compile(r"[\w.:-]+")  # an instrument (btc-5m) or a strategy (canary)


@dataclass(frozen=True, slots=True)
class CanonicalControl:
    name: ControlName
    value_type: str  # 'enum', 'usd' or 'list', as the table's CHECK wants
    json_value: object  # what the jsonb column holds
    text: str  # what ControlChange.value carries


def canonical(name: str, value: str) -> CanonicalControl:
    """The control `name` set to `value` (text: `PAUSE`, `5.50`, `["btc-5m"]` or `btc-5m,eth-5m`).

    Raises ValueError naming the problem: an unknown control, a value outside its vocabulary, a
    negative or non-numeric dollar amount, a list that is not strings."""
    try:
        control = ControlName(name)
    except ValueError:
        raise ValueError(
            f"unknown control {name!r}; known: {', '.join(c.value for c in ControlName)}"
        ) from None
    text = value.strip()
    if control in (ControlName.KILL_SWITCH, ControlName.TRADING_MODE):
        vocabulary = KillSwitch if control is ControlName.KILL_SWITCH else TradingMode
        word = text.strip('"').upper()
        if word not in {v.value for v in vocabulary}:
            raise ValueError(
                f"{control.value} takes one of {', '.join(v.value for v in vocabulary)}, got {value!r}"
            )
        return CanonicalControl(control, "enum", word, word)
    if control in (ControlName.MAX_POSITION_USD, ControlName.MAX_SESSION_LOSS_USD):
        try:
            amount = parse_decimal(text.strip('"'))
        except (ValueError, ArithmeticError):
            raise ValueError(f"{control.value} takes a dollar amount, got {value!r}") from None
        if not amount.is_finite() or amount < 0 or amount > 1_000_000:
            raise ValueError(f"{control.value} must be between 0 and 1000000 dollars, got {value!r}")
        plain = format(amount.copy_abs() if amount == 0 else amount, "f")  # -0 is 0
        return CanonicalControl(control, "usd", plain, plain)
    try:
        items = sorted(parse_list(text))
    except (ValueError, json.JSONDecodeError) as exc:
        raise ValueError(f"{control.value} takes a list of names: {exc}") from None
    bad = [i for i in items if len(i) > 100 or not _NAME.fullmatch(i)]
    if bad:
        raise ValueError(f"{control.value}: not a name: {bad[0]!r}")
    return CanonicalControl(control, "list", items, json.dumps(items))
