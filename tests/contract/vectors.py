"""Where the recorded golden vectors live (read at run time from ../shared/fixtures, never copied)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from connectors.fixture_files import fixtures_dir

RECV = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def fixture(*parts: str) -> Path:
    path = fixtures_dir().joinpath(*parts)
    assert path.exists(), f"fixture missing: {path} (set POLYWINDOW_FIXTURES_DIR)"
    return path
