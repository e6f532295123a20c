"""Start-up stops with a message naming what is wrong."""

from __future__ import annotations

import pytest

from tests.integration.cli import run_cli


def test_unreachable_database_url_stops_startup_with_a_clear_message(endpoints) -> None:  # Kafka answers
    result = run_cli(
        "config",
        "check",
        env={
            "DATABASE_URL": "postgresql://trader:hunter2@127.0.0.1:1/polywindow",
            "POLYWINDOW_STARTUP_TIMEOUT_S": "1",
        },
    )
    assert result.returncode == 2
    assert "DATABASE_URL=postgresql://trader:***@127.0.0.1:1/polywindow does not answer" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


def test_bad_mode_stops_startup_naming_the_setting() -> None:
    result = run_cli("config", "check", env={"POLYWINDOW_MODE": "YOLO"})
    assert result.returncode == 2
    assert "POLYWINDOW_MODE" in result.stderr and "YOLO" in result.stderr
    assert "'LIVE', 'DRY_RUN', 'PAPER' or 'BACKTEST'" in result.stderr


def test_config_check_passes_on_the_running_stack(endpoints) -> None:
    result = run_cli("config", "check")
    assert result.returncode == 0, result.stderr
    assert "mode DRY_RUN" in result.stdout


@pytest.mark.parametrize(
    "env",
    [
        {"POLYWINDOW_FEED_ASSETS": '["doge"]'},
        {"POLYWINDOW_FEED_ASSETS": "btc,doge"},
        {"POLY_API_KEY": "key-only"},
        {"POLY_API_SECRET": "hunter2"},
    ],
    ids=["json-doge", "csv-doge", "api-key-alone", "api-secret-alone"],
)
def test_config_check_refuses_what_feeds_refuses_with_the_same_message(env: dict[str, str]) -> None:
    check = run_cli("config", "check", env=env)
    feeds = run_cli("feeds", env=env)
    assert (check.returncode, feeds.returncode) == (2, 2), check.stdout + feeds.stdout
    assert check.stderr == feeds.stderr
    assert "allowed: btc, eth, sol, xrp" in check.stderr or "must be set together" in check.stderr
    assert "hunter2" not in check.stderr + check.stdout


def test_config_check_accepts_a_comma_separated_asset_list(endpoints) -> None:
    check = run_cli("config", "check", env={"POLYWINDOW_FEED_ASSETS": "btc,eth"})
    assert check.returncode == 0, check.stderr
