"""FlowSettings: the canary in DRY_RUN by default; a strategy or parameter that cannot be built stops
start-up naming the variable."""

from __future__ import annotations

import pytest

from core.enums import TradingMode
from polywindow.settings import FlowSettings, SettingsError, check_every_process, load


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in ("POLYWINDOW_MODE", "POLYWINDOW_FLOW_STRATEGIES", "POLYWINDOW_FLOW_MARKET_DATA_START"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def test_the_flow_runs_the_canary_in_dry_run_by_default() -> None:
    settings = load(FlowSettings)
    assert settings.strategies == {"canary": {}} and settings.mode is TradingMode.DRY_RUN
    assert settings.market_data_start == "earliest" and settings.controls_poll_ms <= 500


@pytest.mark.parametrize(
    "value",
    ['{"yolo": {}}', '{"canary": {"notional_usd": "-1"}}', '{"canary": {"unknown": 1}}', "{}"],
)
def test_a_strategy_that_cannot_be_built_is_refused_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("POLYWINDOW_FLOW_STRATEGIES", value)
    with pytest.raises(SettingsError, match="POLYWINDOW_FLOW_STRATEGIES"):
        load(FlowSettings)
    with pytest.raises(SettingsError, match="POLYWINDOW_FLOW_STRATEGIES"):
        check_every_process()  # `config check` and `up` refuse it before any child starts
