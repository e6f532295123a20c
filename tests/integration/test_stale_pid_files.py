"""`stack down` and `stack status` trust a pid file only when it names the process they started."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil

from infra import stack


def test_a_stale_pid_file_naming_another_process_is_ignored_and_cleared(tmp_path: Path) -> None:
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / "kafka.pid").write_text(f"{bystander.pid}\n")  # a reused pid: not our launcher
        (tmp_path / "kafka.bootstrap").write_text("127.0.0.1:1\n")
        kafka = next(s for s in stack.status(tmp_path, "postgresql://x@h/db", None) if s.name == "kafka")
        assert kafka.running is False

        assert stack.down(tmp_path) == []
        assert psutil.Process(bystander.pid).is_running()  # untouched
        assert not (tmp_path / "kafka.pid").exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_a_pid_file_of_a_dead_process_is_harmless(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / "kafka.pid").write_text(f"{dead.pid}\n")
    (tmp_path / "pg").mkdir()
    (tmp_path / "pg" / "postmaster.pid").write_text(f"{os.getpid()}\n/nowhere\n")  # alive, but not postgres
    assert stack.down(tmp_path) == []
    assert all(s.running is False for s in stack.status(tmp_path, None, None))
