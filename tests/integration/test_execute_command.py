"""`polywindow execute` refuses to start what it cannot do safely, naming what is missing."""

from __future__ import annotations

import pytest

from tests.integration.cli import run_cli


@pytest.mark.parametrize("mode", ["LIVE", "DRY_RUN"])
def test_a_signing_mode_refuses_to_start_without_a_key(mode: str) -> None:
    done = run_cli("execute", "--mode", mode, env={"POLY_PRIVATE_KEY": ""}, timeout_s=60)
    assert done.returncode == 2
    assert "POLY_PRIVATE_KEY must be set" in done.stderr


def test_a_backtest_needs_a_run_id() -> None:
    done = run_cli("execute", "--mode", "BACKTEST", timeout_s=60)
    assert done.returncode == 2
    assert "--run-id" in done.stderr


def test_the_key_is_never_echoed() -> None:
    done = run_cli(
        "execute", "--mode", "LIVE", env={"POLY_PRIVATE_KEY": "0xnot-a-key", "POLYWINDOW_CONFIRM_S": "-1"}
    )
    assert "0xnot-a-key" not in done.stderr + done.stdout
