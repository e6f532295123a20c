"""The embedded PostgreSQL: the real server from the `pgserver` wheel, data kept under the stack dir."""

from __future__ import annotations

import os
import signal
import time
import warnings
from pathlib import Path

import psutil


def start(data_dir: Path) -> tuple[str, int]:
    """Start (or find running) the server on `data_dir`; returns (database URL, postmaster pid).

    The server outlives this process (cleanup_mode=None): `stop` ends it. It listens on a Unix
    socket inside `data_dir` only, never on a TCP port.
    """
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir.parent))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        data_dir.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(data_dir.resolve(), cleanup_mode=None)  # type: ignore[attr-defined]
        pid = server.get_pid()
        if pid is None:
            raise RuntimeError(f"PostgreSQL in {data_dir} did not start; see {data_dir / 'log'}")
        return server.get_uri(), pid


def running_pid(data_dir: Path) -> int | None:
    """The postmaster pid from `postmaster.pid` if that process is a live postgres, else None."""
    pid_file = data_dir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        proc = psutil.Process(pid)
        return pid if "postgres" in proc.name() and proc.status() != psutil.STATUS_ZOMBIE else None
    except psutil.Error:
        return None


def stop(data_dir: Path, timeout_s: float = 20.0) -> int | None:
    """Fast shutdown (SIGINT to the postmaster: rolls back open transactions, flushes, exits)."""
    pid = running_pid(data_dir)
    if pid is None:
        return None
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and running_pid(data_dir) is not None:
        time.sleep(0.05)
    if running_pid(data_dir) is not None:
        os.kill(pid, signal.SIGKILL)
    return pid
