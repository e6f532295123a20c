"""Runtime controls: the table read is the truth, changes move it forward, never backward."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from core.controls import apply_change, apply_snapshot, parse_list
from core.enums import ControlName, KillSwitch, TradingMode
from core.models import ControlChange, ControlsSnapshot
from tests.trading_builders import START, control_rows, controls, snapshot


def _change(name: ControlName, value: str, at_s: int) -> ControlChange:
    return ControlChange(name=name, value=value, updated_by="api", updated_at=START + timedelta(seconds=at_s))


def test_a_table_read_sets_every_control_at_version_one() -> None:
    held = controls(START)
    assert held.kill_switch is KillSwitch.RUN
    assert held.trading_mode is TradingMode.DRY_RUN
    assert held.max_position_usd == Decimal(5)
    assert held.allowed_instruments == {"btc-5m", "eth-5m", "btc-1h"}
    assert held.version == 1 and held.as_of == START


def test_a_partial_table_read_is_refused() -> None:
    rows = control_rows(START)[:-1]
    with pytest.raises(ValueError, match="allowed_strategies"):
        apply_snapshot(None, ControlsSnapshot(rows=rows, read_at=START))


def test_a_change_before_any_table_read_is_not_applied() -> None:
    assert apply_change(None, _change(ControlName.KILL_SWITCH, "RUN", 1)) is None


def test_a_change_moves_the_version_and_the_value() -> None:
    held = apply_change(controls(START), _change(ControlName.KILL_SWITCH, "PAUSE", 1))
    assert held is not None
    assert held.kill_switch is KillSwitch.PAUSE and held.version == 2
    assert held.as_of == START + timedelta(seconds=1)


def test_a_change_older_than_the_table_read_is_ignored_after_a_restart() -> None:
    held = controls(START + timedelta(seconds=10), kill_switch="PAUSE")
    replayed = apply_change(held, _change(ControlName.KILL_SWITCH, "RUN", 5))
    assert replayed is held


def test_a_table_read_that_began_before_a_change_does_not_revert_it() -> None:
    """The read's rows predate the change it raced with: the change stands until a newer row."""
    paused = apply_change(controls(START), _change(ControlName.KILL_SWITCH, "PAUSE", 1))
    assert paused is not None
    raced = apply_snapshot(
        paused, snapshot(START).model_copy(update={"read_at": START + timedelta(seconds=2)})
    )
    assert raced.kill_switch is KillSwitch.PAUSE and raced.version == paused.version
    assert raced.as_of == START + timedelta(seconds=2)
    resumed = apply_snapshot(raced, snapshot(START + timedelta(seconds=3)))  # a newer row: RUN again
    assert resumed.kill_switch is KillSwitch.RUN and resumed.version == paused.version + 1


def test_a_reread_with_the_same_values_keeps_the_version_but_refreshes_as_of() -> None:
    first = controls(START)
    again = apply_snapshot(first, snapshot(START + timedelta(seconds=1)))
    assert again.version == first.version
    assert again.as_of == START + timedelta(seconds=1)


def test_a_bad_control_value_raises() -> None:
    with pytest.raises(ValueError):
        apply_change(controls(START), _change(ControlName.KILL_SWITCH, "GO", 1))
    with pytest.raises(ValueError):
        apply_change(controls(START), _change(ControlName.MAX_POSITION_USD, "-1", 1))


@pytest.mark.parametrize(
    ("text", "items"),
    [
        ('["btc-5m","eth-5m"]', {"btc-5m", "eth-5m"}),
        ("btc-5m, eth-5m", {"btc-5m", "eth-5m"}),
        ("[]", set()),
        ("", set()),
    ],
)
def test_list_controls_parse_as_json_arrays_or_comma_separated(text: str, items: set[str]) -> None:
    assert parse_list(text) == items
