"""Run the real `polywindow` command in a subprocess, as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
POLYWINDOW = Path(sys.executable).parent / "polywindow"


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout_s: float = 120
) -> subprocess.CompletedProcess[str]:
    merged = {**os.environ, **(env or {})}  # the session's own stack and archive (tests/conftest.py)
    return subprocess.run(
        [str(POLYWINDOW), *args],
        cwd=REPO,
        env=merged,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
