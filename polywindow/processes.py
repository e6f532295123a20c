"""`polywindow up`: every process of the local run as a child of one foreground command.

Each child is the same `polywindow <sub-command>` an operator could start alone; this module only
starts them in order (the simulator first, the others once it answers as our simulator), turns a
Ctrl-C/SIGTERM into one SIGTERM to each, and stops the rest, naming the culprit, when one exits on
its own.

Children run in process groups of their own, so a Ctrl-C at the terminal reaches `up` alone and each
child gets exactly one signal from it (a second would turn uvicorn's graceful stop into a forced
one, with tracebacks). SIGTERM rather than SIGINT because a child still starting Python dies of it
quietly, where SIGINT would print the interpreter's start-up traceback. On Linux a child is also
sent SIGTERM if `up` itself dies without stopping it.
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

# A child stopped by `up` exits 0 once its SIGTERM handler is in place (each command's handler takes
# the Ctrl-C path); one still starting ends by the signal's default action (-15, no output) or, during
# start-up code, as an interrupted command (130). All are the stop `up` asked for.
STOPPED_CLEANLY = frozenset({0, 130, -signal.SIGTERM, -signal.SIGINT})
SIM_CLOCK_PATH = "/_sim/clock"  # a route only our simulator has: something else on the port fails here


@dataclass(frozen=True)
class Child:
    name: str
    args: tuple[str, ...]
    env: dict[str, str]


@dataclass(frozen=True)
class Exit:
    name: str
    code: int


def _polywindow() -> str:
    return str(Path(sys.executable).parent / "polywindow")


def port_taken(port: int) -> bool:
    """Whether binding 127.0.0.1:`port` fails the way the simulator's bind would (SO_REUSEADDR, as
    uvicorn sets it, so a closed port's TIME_WAIT does not count as taken)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def simulator_answers(port: int) -> bool:
    """True when our simulator serves `GET /_sim/clock` on the port (scenario time and speed)."""
    try:
        reply = httpx.get(f"http://127.0.0.1:{port}{SIM_CLOCK_PATH}", timeout=1.0)
        body = reply.json() if reply.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return False
    return isinstance(body, dict) and "now_ms" in body and "speed" in body


def wait_until(ready: Callable[[], bool], gone: Callable[[], bool], timeout_s: float) -> str | None:
    """None once `ready()`; else why not: the process is `gone()` or the deadline passed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if ready():
            return None
        if gone():
            return "exited"
        time.sleep(0.1)
    return f"did not answer within {timeout_s:g} s"


def simulator_env(port: int) -> dict[str, str]:
    """Point the venue-facing settings of the other processes at the local simulator, and their clock
    at its scenario time (so `--speed 60` is followed)."""
    base = f"127.0.0.1:{port}"
    return {
        "POLYWINDOW_CLOCK": "simulator",
        "POLYWINDOW_CLOB_URL": f"http://{base}",
        "POLYWINDOW_GAMMA_URL": f"http://{base}/gamma",
        "POLYWINDOW_MARKET_WS_URL": f"ws://{base}/ws/market",
        "POLYWINDOW_USER_WS_URL": f"ws://{base}/ws/user",
        "POLYWINDOW_RTDS_URL": f"ws://{base}/rtds",
        "POLYWINDOW_BINANCE_REST_URL": f"http://{base}/binance",
        "POLYWINDOW_BINANCE_WS_URL": f"ws://{base}/binance",
    }


def _own_group_dying_with_parent() -> None:
    """In the child before exec: its own process group; SIGTERM when the parent dies (Linux)."""
    os.setpgid(0, 0)
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


class ProcessGroup:
    """Children started in order; `wait` returns the exit code `up` should end with."""

    def __init__(self) -> None:
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self._hurry = False

    def start(self, child: Child) -> subprocess.Popen[bytes]:
        env = {**os.environ, **child.env}
        proc = subprocess.Popen(
            [_polywindow(), *child.args],
            env=env,
            stdin=subprocess.DEVNULL,
            preexec_fn=_own_group_dying_with_parent,  # `up` is single-threaded
        )
        self.running[child.name] = proc
        return proc

    def stop(self, timeout_s: float = 30.0) -> list[Exit]:
        """One SIGTERM to each live child, then wait; a second signal to `up`, or the deadline, kills.
        Returns every child's exit code (negative: killed by that signal). The deadline leaves room
        for `feeds`' bounded stop (up to 10 s for Kafka, 10 s for queued database writes)."""

        def hurry(_signum: int, _frame: object) -> None:
            self._hurry = True

        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, hurry)
        for proc in self.running.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while any(p.poll() is None for p in self.running.values()):
            if self._hurry or time.monotonic() > deadline:
                for proc in self.running.values():
                    if proc.poll() is None:
                        proc.kill()
            time.sleep(0.05)
        return [Exit(name, proc.wait()) for name, proc in self.running.items()]

    def wait(self) -> tuple[int, str]:
        """Until a child exits by itself (-> stop the rest) or a signal arrives (-> stop all)."""
        try:
            while True:
                for name, proc in self.running.items():
                    code = proc.poll()
                    if code is not None:
                        self.stop()
                        return (code or 1), f"{name} exited with code {code}; stopped the others"
                time.sleep(0.2)
        except KeyboardInterrupt:
            return self.stopped()

    def stopped(self) -> tuple[int, str]:
        """Stop every child; 0 and "stopped" when each stopped cleanly, else 1 naming the others."""
        bad = [e for e in self.stop() if e.code not in STOPPED_CLEANLY]
        if not bad:
            return 0, "stopped"
        return 1, "stopped; " + ", ".join(f"{e.name} exited with code {e.code}" for e in bad)


def sigterm_as_ctrl_c() -> None:
    """SIGTERM takes Ctrl-C's path: it raises SIGINT, which asyncio and uvicorn turn into a graceful
    stop. SIGINT first gets Python's own handler back: a process a shell started in the background
    inherits SIGINT ignored, and an ignored SIGINT raised on SIGTERM did nothing (`feeds` under a
    backgrounded campaign never stopped on SIGTERM, and was killed after its stop deadline)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: signal.raise_signal(signal.SIGINT))


def sigterm_as_interrupt() -> None:
    """SIGTERM (a supervisor) stops `up` as Ctrl-C does."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
