"""A test session never touches the operator's stack or archive: it runs on a stack of its own and
stops it (tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from polywindow.settings import RecorderSettings, load
from tests.integration.cli import REPO

# A real test that starts the stack, puts test events (a malformed one among them) on every md.*
# topic, and one that runs a `polywindow` subprocess against the stack.
INNER = [
    "tests/integration/test_archive.py::test_every_md_topic_is_archived_byte_identical_and_read_back_in_recv_ts_order",
    "tests/integration/test_startup_errors.py::test_config_check_passes_on_the_running_stack",
]


def _processes_under(path: Path) -> list[str]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(path) in cmdline:
            found.append(cmdline)
    return found


def test_a_session_points_settings_at_its_own_stack_and_archive() -> None:
    settings = load(RecorderSettings)
    assert settings.stack_dir.resolve() != (REPO / ".stack").resolve()
    assert settings.archive_dir.resolve() != (REPO / "archive").resolve()
    assert settings.stack_dir.parent == settings.archive_dir.parent  # the session's one directory
    assert os.environ["POLYWINDOW_STACK_DIR"] == str(settings.stack_dir)  # what subprocesses inherit


@pytest.mark.timeout(240)
def test_a_test_session_leaves_the_operators_stack_and_archive_untouched_and_stops_its_own(
    tmp_path: Path,
) -> None:
    operator_stack, operator_archive, test_root = tmp_path / "stack", tmp_path / "archive", tmp_path / "t"
    env = {
        **os.environ,
        "POLYWINDOW_STACK_DIR": str(operator_stack),  # what the operator's `make run` uses
        "POLYWINDOW_ARCHIVE_DIR": str(operator_archive),
        "POLYWINDOW_TEST_DIR": str(test_root),
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *INNER],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=220,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
    assert not operator_stack.exists()
    assert not operator_archive.exists()
    assert list(test_root.iterdir()) == []  # the session removed its directory...
    assert _processes_under(test_root) == []  # ...after stopping its PostgreSQL and Kafka


@pytest.mark.skipif(
    bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or os.environ.get("DATABASE_URL")),
    reason="checks the embedded-stack case",
)
@pytest.mark.timeout(240)
def test_addresses_exported_from_the_operators_own_stack_are_not_used_by_a_test_session(
    tmp_path: Path,
) -> None:
    operator_stack = tmp_path / "stack"
    operator_stack.mkdir()
    (operator_stack / "kafka.bootstrap").write_text("127.0.0.1:9\n")  # what `stack env` would export
    before = sorted(p.name for p in operator_stack.iterdir())
    env = {
        **os.environ,
        "POLYWINDOW_STACK_DIR": str(operator_stack),
        "POLYWINDOW_TEST_DIR": str(tmp_path / "t"),
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
        "DATABASE_URL": f"postgresql://postgres:@/postgres?host={operator_stack.resolve() / 'pg'}",
        "POLYWINDOW_STARTUP_TIMEOUT_S": "5",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", INNER[1]],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=220,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in operator_stack.iterdir()) == before
    assert _processes_under(tmp_path) == []
