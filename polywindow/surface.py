"""The operator's surface in `polywindow up`: the API and the dashboard as children, sharing one bearer
token (POLYWINDOW_API_TOKEN, else one generated into the stack directory as `api.token`, mode 0600,
reused, never printed), and the addresses `up` prints once both answer."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from core.universe import ASSETS, INTERVALS_S
from core.window_state import instrument_of
from polywindow.settings import DashboardSettings
from simulator.admin_token import stack_admin_token

__all__ = [
    "API_TOKEN_FILE",
    "DEMO_CANARY_ENTRY_S",
    "Surface",
    "answers",
    "demo_controls",
    "demo_start",
    "demo_strategies",
    "exited",
    "surface",
]

API_TOKEN_FILE = "api.token"
DEMO_CANARY_ENTRY_S = 295
"""`make run`'s canary buys in a window's last 295 s (its default is the last 60 s): a 5-minute
window's last minute can be five minutes away, and a new user must see a trade within a minute.
With 270 a start-up that ended in a window's last minute on a loaded machine waited 30 s into the
next window (the demo test failed at 90 s); with 295 it waits only for the start-up."""


@dataclass(frozen=True)
class Surface:
    env: dict[str, str]  # for both children: the token and where the dashboard finds the API
    api_url: str
    dashboard_url: str


def _local(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def demo_strategies(environ: Mapping[str, str]) -> dict[str, str]:
    """The strategies `up` gives the flow, the API's live view and the dashboard (one setting, so all
    three show the same): the canary entering at T-`DEMO_CANARY_ENTRY_S`, unless the operator set
    POLYWINDOW_FLOW_STRATEGIES (then nothing is changed)."""
    if "POLYWINDOW_FLOW_STRATEGIES" in environ:
        return {}
    demo = {"canary": {"seconds_before_close": DEMO_CANARY_ENTRY_S}}
    return {"POLYWINDOW_FLOW_STRATEGIES": json.dumps(demo)}


def surface(settings: DashboardSettings) -> Surface:
    token = stack_admin_token(settings.stack_dir, settings.api_token, API_TOKEN_FILE)
    api_url = f"http://{_local(settings.api_host)}:{settings.api_port}"
    return Surface(
        env={
            "POLYWINDOW_API_TOKEN": token.get_secret_value(),
            "POLYWINDOW_API_URL": api_url,
            **demo_strategies(os.environ),
        },
        api_url=api_url,
        dashboard_url=f"http://{_local(settings.dashboard_host)}:{settings.dashboard_port}",
    )


def answers(url: str) -> bool:
    """True when something answers HTTP at `url` (any status: an unhealthy /health is a 503)."""
    try:
        httpx.get(url, timeout=1.0)
    except httpx.HTTPError:
        return False
    return True


def exited(proc: subprocess.Popen[bytes]) -> bool:
    return proc.poll() is not None


def demo_controls(ops: Surface) -> list[str]:
    """`make run` is the DRY_RUN demo on the local simulator: when the runtime controls were never set
    (every row still the migration's: paused, nothing allowed), set them through the API, as an
    operator would (validated, published, audited as `polywindow up`), so the canary trades every
    instrument in DRY_RUN. Controls an operator has touched are never changed. Returns what was set."""
    token = ops.env["POLYWINDOW_API_TOKEN"]
    with httpx.Client(base_url=ops.api_url, timeout=10.0) as api:
        held = api.get("/api/controls").raise_for_status().json()
        if any(view["updated_by"] != "migration" for view in held.values()):
            return []
        instruments = [instrument_of(a, i) for a in ASSETS for i in INTERVALS_S]
        wanted = {
            "allowed_instruments": json.dumps(instruments),
            "allowed_strategies": json.dumps(["canary"]),
            "kill_switch": "RUN",
        }
        why = "make run: the DRY_RUN demo on the local simulator (controls never set before)"
        for name, value in wanted.items():
            api.post(
                "/api/controls",
                json={"name": name, "value": value, "who": "polywindow up", "why": why},
                headers={"Authorization": f"Bearer {token}"},
            ).raise_for_status()
    return list(wanted)


API_WAIT_FACTOR = 3
"""The API is waited for up to 3 x the start-up timeout before the controls are given up on: on a
loaded machine nine processes importing at once take long, and the demo needs its controls."""


def demo_start(ops: Surface, gone: Callable[[], bool], startup_timeout_s: float) -> str:
    """Once the API answers, `demo_controls`; the line `up` prints about it. A slow or failed API is
    said in that line, never a traceback: `up` goes on (the operator can set the controls later)."""
    deadline = time.monotonic() + startup_timeout_s * API_WAIT_FACTOR
    while not answers(f"{ops.api_url}/health"):
        if gone():
            return "controls: not set (the API exited; see its lines above)"
        if time.monotonic() > deadline:
            return (
                f"controls: not set (the API did not answer within {startup_timeout_s * API_WAIT_FACTOR:g} s)"
            )
        time.sleep(0.2)
    try:
        set_now = demo_controls(ops)
    except httpx.HTTPError as exc:
        return f"controls: not set (the API refused: {type(exc).__name__})"
    if not set_now:
        return "controls: kept as an operator set them"
    return f"controls: {', '.join(set_now)} set for the DRY_RUN canary (they were never set)"
