"""The embedded PostgreSQL: the real server from the `pgserver` wheel, data kept under the stack dir."""

from __future__ import annotations

import os
import signal
import time
import warnings
from pathlib import Path

import psutil


class LocalPgError(Exception):
    """The embedded server cannot be used now; the message says why and what to run."""


def _shutting_down_message(data_dir: Path, pid: int) -> str:
    return (
        f"the embedded PostgreSQL (pid {pid}, data in {data_dir}) is shutting down and waits for its "
        "clients to disconnect (a SIGTERM asks for a 'smart' shutdown): `polywindow stack down` stops it "
        "now, closing those connections; then `polywindow stack up`"
    )


def start(data_dir: Path) -> tuple[str, int]:
    """Start (or find running) the server on `data_dir`; returns (database URL, postmaster pid).

    The server outlives this process (cleanup_mode=None): `stop` ends it. It listens on a Unix
    socket inside `data_dir` only, never on a TCP port. A server in the middle of shutting down is
    reported (LocalPgError), not started over.
    """
    pid = running_pid(data_dir)
    if pid is not None and shutting_down(data_dir):
        raise LocalPgError(_shutting_down_message(data_dir, pid))
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir.parent))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            server = pgserver.get_server(data_dir.resolve(), cleanup_mode=None)  # type: ignore[attr-defined]
        except Exception as exc:  # pgserver asserts and raises plain errors; say where to look
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise LocalPgError(
                f"the embedded PostgreSQL in {data_dir} did not start ({detail}); see {data_dir / 'log'}"
            ) from None
        pid = server.get_pid()
        if pid is None:
            raise LocalPgError(f"PostgreSQL in {data_dir} did not start; see {data_dir / 'log'}")
        return server.get_uri(), pid


def check_usable(data_dir: Path) -> None:
    """LocalPgError if the server is there but shutting down (it refuses new connections)."""
    pid = running_pid(data_dir)
    if pid is not None and shutting_down(data_dir):
        raise LocalPgError(_shutting_down_message(data_dir, pid))


def shutting_down(data_dir: Path) -> bool:
    """The postmaster says 'stopping' in the status line of `postmaster.pid` (PostgreSQL >= 10)."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
    except OSError:
        return False
    return bool(lines) and lines[-1].strip() == "stopping"


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
    """Fast shutdown (SIGINT to the postmaster: ends client sessions, rolls back open transactions,
    flushes, exits), also when a smart shutdown (SIGTERM) is already waiting on clients; then
    immediate (SIGQUIT), then SIGKILL, each after `timeout_s`."""
    pid = running_pid(data_dir)
    if pid is None:
        return None
    for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and running_pid(data_dir) is not None:
            time.sleep(0.05)
        if running_pid(data_dir) is None:
            break
    return pid
