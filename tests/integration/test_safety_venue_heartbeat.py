"""Dead-man switch: an executor that dies with an order resting leaves no resting order behind.

A real subprocess holds the venue heartbeat (POST /v1/heartbeats through the unmodified client) with
a GTC order resting at the simulator; while it beats, the order stays; SIGKILLed, it stops beating
and the simulator cancels every order of the account once the heartbeat timeout passes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from execution.venue_heartbeat import VenueHeartbeat
from tests.integration.safety_venue import client_for, running_sim
from tests.simulator.conftest import HARDHAT_KEY, wait_until

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 1.0


def read_line(proc: subprocess.Popen[str], prefix: str, deadline: float) -> str:
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"the executor ended before printing {prefix!r}")
        if line.startswith(prefix):
            return line.split()[1]
    raise AssertionError(f"no {prefix!r} line in time")


def test_a_killed_executor_leaves_no_resting_order() -> None:
    with running_sim(heartbeat_timeout_s=TIMEOUT_S) as sim:
        client = client_for(sim)
        env = {**os.environ, "POLY_PRIVATE_KEY": HARDHAT_KEY}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.safety_heartbeat_child",
                sim.url,
                sim.market.up_token_id,
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            order_id = read_line(proc, "order", deadline)
            # Beats spanning several heartbeat timeouts: the session is kept, the order still rests.
            first = int(read_line(proc, "beat", deadline))
            while int(read_line(proc, "beat", deadline)) < first + 4 * int(TIMEOUT_S / 0.2):
                pass
            assert client.get_order(order_id)["status"] == "LIVE"
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            wait_until(
                lambda: client.get_order(order_id)["status"] == "CANCELED",
                timeout_s=15,
                what="the simulator to cancel the dead executor's order",
            )
            assert client.get_open_orders() == []
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)


def test_a_beat_with_a_stale_id_takes_the_id_the_venue_expects() -> None:
    with running_sim() as sim:
        first = VenueHeartbeat(client_for(sim), interval_s=1.0)
        second = VenueHeartbeat(client_for(sim), interval_s=1.0)
        assert first.beat() and second.beat()
        assert first.heartbeat_id != second.heartbeat_id
        assert not first.beat(), "the venue refuses the superseded id"
        assert first.heartbeat_id == second.heartbeat_id, "and names the one it expects"
        assert first.beat()
