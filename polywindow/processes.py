"""`polywindow up`: every process of the local run as a child of one foreground command.

Each child is the same `polywindow <sub-command>` an operator could start alone; this module only
starts them in order (the simulator first, and the others once its port answers), forwards
Ctrl-C/SIGTERM to all of them, and stops the rest, naming the culprit, when one exits on its own.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Child:
    name: str
    args: tuple[str, ...]
    env: dict[str, str]


def _polywindow() -> str:
    return str(Path(sys.executable).parent / "polywindow")


def wait_port(port: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


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
    }


class ProcessGroup:
    """Children started in order; `wait` returns the exit code `up` should end with."""

    def __init__(self) -> None:
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self._stopping = False

    def start(self, child: Child) -> None:
        env = {**os.environ, **child.env}
        self.running[child.name] = subprocess.Popen([_polywindow(), *child.args], env=env)

    def stop(self, timeout_s: float = 15.0) -> None:
        self._stopping = True
        for proc in self.running.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        deadline = time.monotonic() + timeout_s
        for proc in self.running.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def wait(self) -> tuple[int, str]:
        """Until a child exits by itself (-> stop the rest) or a signal arrives (-> stop all)."""

        def on_signal(signum: int, _frame: object) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, on_signal)
        try:
            while True:
                for name, proc in self.running.items():
                    code = proc.poll()
                    if code is not None:
                        self.stop()
                        return (code or 1), f"{name} exited with code {code}; stopped the others"
                time.sleep(0.2)
        except KeyboardInterrupt:
            self.stop()
            return 0, "stopped"
