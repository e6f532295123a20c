"""The control service's validation: what it accepts is what the flows read back (the same value
through `RuntimeControls.with_value`) and what the table's CHECK takes; what it refuses names why."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.control_values import canonical
from core.enums import ControlName
from tests.trading_builders import START, controls

_USD = re.compile(r"^[0-9]+(\.[0-9]+)?$")  # migrations/0001_init.sql's CHECK for a dollar control


@given(st.decimals(min_value=0, max_value=1_000_000, places=4, allow_nan=False))
def test_a_dollar_amount_round_trips_through_the_flow_and_fits_the_table(amount: Decimal) -> None:
    found = canonical("max_position_usd", str(amount))
    assert _USD.match(found.text) and found.json_value == found.text
    assert controls(START).with_value(ControlName.MAX_POSITION_USD, found.text).max_position_usd == amount


@given(
    st.lists(
        st.text(
            st.characters(codec="utf-8", categories=["L", "N"]) | st.sampled_from("-_.:"),
            min_size=1,
            max_size=12,
        )
    )
)
def test_a_list_round_trips_through_the_flow(items: list[str]) -> None:
    found = canonical("allowed_instruments", json.dumps(items))
    held = controls(START).with_value(ControlName.ALLOWED_INSTRUMENTS, found.text)
    assert held.allowed_instruments == {i.strip() for i in items if i.strip()}
    assert found.json_value == sorted(held.allowed_instruments)


def test_words_are_case_insensitive_and_comma_lists_are_accepted() -> None:
    assert canonical("kill_switch", " pause ").text == "PAUSE"
    assert canonical("trading_mode", '"paper"').json_value == "PAPER"
    assert canonical("allowed_strategies", "canary, momentum").json_value == ["canary", "momentum"]
    assert canonical("max_session_loss_usd", "-0").text == "0"


@pytest.mark.parametrize(
    ("name", "value", "why"),
    [
        ("kill_switch", "STOP", "kill_switch takes one of RUN, PAUSE, FLATTEN, EMERGENCY"),
        ("trading_mode", "YOLO", "trading_mode takes one of"),
        ("max_position_usd", "1e400", "between 0 and"),
        ("max_position_usd", "NaN", "dollar amount"),
        ("max_position_usd", "-5", "between 0 and"),
        ("allowed_instruments", '{"a": 1}', "not a name"),
        ("allowed_instruments", "[1, 2]", "list of names"),
        ("allowed_instruments", '["ok", "bad\\u0007"]', "not a name"),
        ("leverage", "10", "unknown control 'leverage'"),
    ],
)
def test_a_bad_value_is_refused_naming_why(name: str, value: str, why: str) -> None:
    with pytest.raises(ValueError, match=re.escape(why)):
        canonical(name, value)
