"""`up`'s operator surface: one API token for the API and the dashboard, generated into the stack
directory when the setting is unset (0600, reused), the setting winning when given."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from polywindow.settings import DashboardSettings, load
from polywindow.surface import API_TOKEN_FILE, demo_strategies, surface


@pytest.fixture
def stack_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("POLYWINDOW_STACK_DIR", str(tmp_path))
    monkeypatch.delenv("POLYWINDOW_API_TOKEN", raising=False)
    monkeypatch.setenv("POLYWINDOW_API_PORT", "8781")
    monkeypatch.setenv("POLYWINDOW_DASHBOARD_PORT", "8502")
    return tmp_path


def test_an_unset_token_is_generated_owner_only_and_reused(stack_dir: Path) -> None:
    first = surface(load(DashboardSettings))
    path = stack_dir / API_TOKEN_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.env["POLYWINDOW_API_TOKEN"]) >= 16
    assert surface(load(DashboardSettings)).env == first.env


def test_the_token_setting_wins_and_the_dashboard_is_pointed_at_the_api(
    stack_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POLYWINDOW_API_TOKEN", "given-token-0123456789")
    monkeypatch.setenv("POLYWINDOW_API_HOST", "0.0.0.0")
    monkeypatch.delenv("POLYWINDOW_FLOW_STRATEGIES", raising=False)
    ops = surface(load(DashboardSettings))
    assert ops.env == {
        "POLYWINDOW_API_TOKEN": "given-token-0123456789",
        "POLYWINDOW_API_URL": "http://127.0.0.1:8781",
        "POLYWINDOW_FLOW_STRATEGIES": '{"canary": {"seconds_before_close": 295}}',  # make run's canary
    }
    assert ops.dashboard_url == "http://127.0.0.1:8502"
    assert not (stack_dir / API_TOKEN_FILE).exists()


def test_an_operators_strategies_are_never_replaced_by_the_demos() -> None:
    assert demo_strategies({"POLYWINDOW_FLOW_STRATEGIES": '{"oracle_momentum": {}}'}) == {}
    assert demo_strategies({}) == {"POLYWINDOW_FLOW_STRATEGIES": '{"canary": {"seconds_before_close": 295}}'}
