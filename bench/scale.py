"""Tick-to-intent on the real broker against the mock: bench/tick_to_intent.py run twice, each time on
a private stack of its own (a temporary POLYWINDOW_STACK_DIR): librdkafka's mock cluster, then a
3-broker Apache Kafka cluster (POLYWINDOW_KAFKA=apache, `make kafka` first; brokers in network
namespaces when run as root). Both stacks are stopped and removed at the end.

Not yet here (issue 15): book events per second through the flow with 1, 2 and 4 workers, one and
two processes. Last line: one JSON object.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from infra import netns

ROOT = Path(__file__).resolve().parents[1]
POLYWINDOW = str(Path(sys.executable).parent / "polywindow")


def _run_on(engine: str, base: Path) -> dict[str, object]:
    """bench/tick_to_intent.py's figures on a fresh stack of `engine` under `base`."""
    env = {
        **os.environ,
        "POLYWINDOW_STACK_DIR": str(base / engine / "stack"),
        "POLYWINDOW_ARCHIVE_DIR": str(base / engine / "archive"),
        "POLYWINDOW_KAFKA": engine,
        "POLYWINDOW_KAFKA_BROKERS": "3" if engine == "apache" else "1",
        "POLYWINDOW_KAFKA_NETNS": "1" if engine == "apache" and netns.available() else "0",
        "POLYWINDOW_STARTUP_TIMEOUT_S": "120",
    }
    for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        env.pop(name, None)
    try:
        subprocess.run([POLYWINDOW, "stack", "up"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        done = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "tick_to_intent.py")],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"tick_to_intent on {engine} failed: {done.stderr[-2000:]}")
        figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
        return figures
    finally:
        subprocess.run(
            [POLYWINDOW, "stack", "down"], env=env, cwd=ROOT, check=False, stdout=subprocess.DEVNULL
        )


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="pw-scale-"))
    figures: dict[str, object] = {"load_1m_before": round(os.getloadavg()[0], 2)}
    try:
        for engine in ("mock", "apache"):
            found = _run_on(engine, base)
            for key in ("r200_p50_ms", "r200_p99_ms", "r2000_p50_ms", "r2000_p99_ms", "one_hop_floor_p99_ms"):
                figures[f"{engine}_{key}"] = found.get(key)
            print(json.dumps(figures), flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    figures["load_1m_after"] = round(os.getloadavg()[0], 2)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
