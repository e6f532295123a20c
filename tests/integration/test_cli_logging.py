"""Every `polywindow` command configures logging before it runs: JSON lines on a non-terminal stderr,
at POLYWINDOW_LOG_LEVEL, which is itself validated."""

from __future__ import annotations

import json

from tests.integration.cli import run_cli


def _records(stderr: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_a_command_logs_json_lines_at_the_configured_level() -> None:
    debug = run_cli("settle", "--markets", "nope", "--oracle", "nope", env={"POLYWINDOW_LOG_LEVEL": "DEBUG"})
    started = [r for r in _records(debug.stderr) if r.get("event") == "polywindow.command"]
    assert started == [{**started[0], "command": "settle", "level": "debug"}], debug.stderr
    info = run_cli("settle", "--markets", "nope", "--oracle", "nope", env={"POLYWINDOW_LOG_LEVEL": "info"})
    assert _records(info.stderr) == [], info.stderr
    assert "no such file: nope" in info.stderr


def test_a_bad_log_level_stops_every_command_naming_the_setting() -> None:
    result = run_cli("settle", "--markets", "nope", "--oracle", "nope", env={"POLYWINDOW_LOG_LEVEL": "LOUD"})
    assert result.returncode == 2
    assert 'POLYWINDOW_LOG_LEVEL="LOUD": expected one of DEBUG, INFO, WARNING, ERROR' in result.stderr
