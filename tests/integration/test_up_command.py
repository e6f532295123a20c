"""`polywindow up` (what `make run` calls) starts every process, and Ctrl-C stops them all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil

from tests.integration.cli import POLYWINDOW, REPO


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_up_runs_sim_feeds_and_recorder_and_ctrl_c_stops_them_all(endpoints, tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "POLYWINDOW_ARCHIVE_DIR": str(tmp_path / "archive"),
        "POLYWINDOW_ARCHIVE_START": "end",
    }
    proc = subprocess.Popen(
        [str(POLYWINDOW), "up", "--port", str(port), "--seed", "7"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        children: list[str] = []
        while time.monotonic() < deadline:
            children = [" ".join(c.cmdline()[1:3]) for c in psutil.Process(proc.pid).children()]
            if len(children) == 4:
                break
            time.sleep(0.2)
        assert sorted(c.split()[-1] for c in children) == ["feeds", "record", "sim", "sink"]
        time.sleep(3)  # let them connect: the simulator's port answers, the feeds subscribe
        descendants = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=45)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "running: sim, feeds, record, sink" in out
    assert "polywindow up: stopped" in out
    assert all(
        not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        for pid in descendants
    )
