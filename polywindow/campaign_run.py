"""`polywindow campaign canary`: the live set (simulator, feeds, flow and executor in LIVE, the API) as
children on a private port, the canary trading every chosen instrument, until N windows of each have
settled and both an Up and a Down resolution have been seen; then the kill switch's three steps
through the API, and the judgement (`polywindow.campaign_canary`).

Construction and waiting only: what passes is decided in `core.campaign_checks`.
"""

from __future__ import annotations

import json
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
from pydantic import SecretStr

from connectors.clock import SimulatorClock
from core.campaign_checks import CANARY_PARAMS, Check
from core.enums import Outcome
from polywindow.execution_wiring import connect_venue
from polywindow.processes import Child, ProcessGroup, simulator_answers, simulator_env, wait_until
from sinks.postgres.campaign_store import our_window, traded_windows

__all__ = [
    "CanaryPlan",
    "flatten_and_emergency_steps",
    "free_port",
    "pause_step",
    "paused_entries",
    "poll_until_enough",
    "settled_windows",
    "start_live_set",
    "wait_all_settled",
]

Echo = Callable[[str], None]


@dataclass(frozen=True)
class CanaryPlan:
    windows: int
    instruments: tuple[str, ...]  # e.g. ("btc-5m", "eth-15m")
    speed: float
    seed: int
    max_minutes: float


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class LiveSet:
    group: ProcessGroup
    sim_url: str
    api_url: str
    token: str
    key: SecretStr


def start_live_set(plan: CanaryPlan, key: SecretStr, timeout_s: float, env: dict[str, str]) -> LiveSet:
    """sim, feeds (only the plan's assets and intervals), flow and execute in LIVE, api, each with
    `env` (where the run's rows and events go); exits 2 via RuntimeError when the simulator or the
    API does not answer."""
    port, api_port = free_port(), free_port()
    token = secrets.token_urlsafe(24)
    assets = sorted({i.split("-")[0] for i in plan.instruments})
    intervals = sorted({_seconds(i.split("-")[1]) for i in plan.instruments})
    group = ProcessGroup()
    sim = group.start(
        Child("sim", ("sim", "--port", str(port), "--speed", f"{plan.speed:g}", "--seed", str(plan.seed)), {})
    )
    why = wait_until(lambda: simulator_answers(port), lambda: sim.poll() is not None, timeout_s)
    if why is not None:
        group.stop()
        raise RuntimeError(f"the simulator on port {port} {why}")
    venue_env = {
        **simulator_env(port),
        **env,
        "POLYWINDOW_FEED_ASSETS": ",".join(assets),
        "POLYWINDOW_FEED_INTERVALS_S": ",".join(str(i) for i in intervals),
        "POLYWINDOW_MODE": "LIVE",
        "POLY_PRIVATE_KEY": key.get_secret_value(),
        "POLYWINDOW_FLOW_STRATEGIES": json.dumps({"canary": CANARY_PARAMS}),
    }
    api_env = {
        "POLYWINDOW_API_TOKEN": token,
        "POLYWINDOW_API_PORT": str(api_port),
        **env,
    }
    group.start(Child("feeds", ("feeds",), venue_env))
    group.start(Child("flow", ("flow",), venue_env))
    group.start(Child("execute", ("execute", "--mode", "LIVE"), venue_env))
    api = group.start(Child("api", ("api",), api_env))
    api_url = f"http://127.0.0.1:{api_port}"
    why = wait_until(lambda: _answers(f"{api_url}/api/controls"), lambda: api.poll() is not None, timeout_s)
    if why is not None:
        group.stop()
        raise RuntimeError(f"the API {why}")
    return LiveSet(group, f"http://127.0.0.1:{port}", api_url, token, key)


def _seconds(label: str) -> int:
    return {"5m": 300, "15m": 900, "1h": 3600, "4h": 14400}[label]


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def post(live: LiveSet, path: str, body: dict[str, str]) -> httpx.Response:
    return httpx.post(
        f"{live.api_url}{path}",
        json={**body, "who": "polywindow campaign", "why": body.get("why", "verification campaign")},
        headers={"Authorization": f"Bearer {live.token}"},
        timeout=10.0,
    )


def wait_for_executor_pause(conn: psycopg.Connection, since: datetime, timeout_s: float) -> bool:
    """LIVE sets PAUSE at its start: the campaign's RUN must come after it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT 1 FROM audit_log WHERE action = 'kill_switch' AND detail->>'reason' = 'LIVE start' AND at >= %s",
            (since,),
        ).fetchone()
        if row:
            return True
        time.sleep(0.5)
    return False


def settled_windows(
    conn: psycopg.Connection, since: datetime, now: datetime, grace: timedelta
) -> dict[str, tuple[str, str | None]]:
    """Traded windows whose positions are all CLOSED, or that ended more than `grace` ago: {id: (instrument, venue outcome)}."""
    done: dict[str, tuple[str, str | None]] = {}
    for window_id in traded_windows(conn, "LIVE", since):
        w = our_window(conn, window_id)
        closed = bool(w.positions) and all(p.state == "CLOSED" for p in w.positions)
        late = w.end_ts is not None and now > w.end_ts + grace
        if (closed and w.venue_outcome is not None) or late:
            done[window_id] = (w.instrument, w.venue_outcome)
    return done


def wait_all_settled(conn: psycopg.Connection, since: datetime, max_minutes: float) -> bool:
    """After PAUSE: until every window traded since `since` is settled (or ended 3 min ago)."""
    deadline = time.monotonic() + max_minutes * 60
    while time.monotonic() < deadline:
        traded = traded_windows(conn, "LIVE", since)
        if len(settled_windows(conn, since, datetime.now(UTC), timedelta(minutes=3))) == len(traded):
            return True
        time.sleep(2.0)
    return False


def enough(done: dict[str, tuple[str, str | None]], plan: CanaryPlan) -> tuple[bool, str]:
    """N windows of every instrument and both resolutions seen; else what is still wanted."""
    counts = {i: sum(1 for inst, _o in done.values() if inst == i) for i in plan.instruments}
    seen = {o for _i, o in done.values() if o is not None}
    short = [f"{i} {n}/{plan.windows}" for i, n in counts.items() if n < plan.windows]
    if short:
        return False, "windows so far: " + ", ".join(short)
    missing = {Outcome.UP.value, Outcome.DOWN.value} - seen
    if missing:
        return (
            False,
            f"{plan.windows} window(s) each, but no {'/'.join(sorted(missing))} resolution yet: continuing",
        )
    return True, "both Up and Down resolutions seen"


def _control(conn: psycopg.Connection) -> tuple[str, str]:
    row = conn.execute(
        "SELECT value #>> '{}', updated_by FROM runtime_controls WHERE name = 'kill_switch'"
    ).fetchone()
    return (str(row[0]), str(row[1])) if row else ("", "")


def _until(test: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if test():
            return True
        time.sleep(0.5)
    return False


def pause_step(live: LiveSet, conn: psycopg.Connection, timeout_s: float) -> tuple[Check, datetime]:
    """PAUSE through the API: the control reads PAUSE (the flow then sends no entry); the entries made
    after it are counted by `paused_entries` once the windows in flight are over. The moment returned
    is the end of a decision's grace (2 s) after the PAUSE, on the simulator's scenario time: the
    executor stamps its orders with it, whatever the speed."""
    clock = SimulatorClock(live.sim_url).start()
    paused_at = clock.now() + timedelta(seconds=2 * max(clock.speed, 1.0))
    answer = post(live, "/api/kill-switch/pause", {"why": "campaign step: PAUSE"})
    ok = answer.status_code == 200 and _until(lambda: _control(conn)[0] == "PAUSE", timeout_s)
    return Check("kill_switch.PAUSE", ok, f"API {answer.status_code}, control {_control(conn)}"), paused_at


def paused_entries(conn: psycopg.Connection, pause: Check, paused_at: datetime) -> Check:
    """PAUSE held: no entry order created after `paused_at` (`pause_step`'s, grace included)."""
    later = conn.execute(
        "SELECT count(*) FROM orders WHERE mode = 'LIVE' AND side = 'BUY' AND created_at > %s", (paused_at,)
    ).fetchone()
    count = int(later[0]) if later else 0
    return Check(
        pause.name, pause.passed and count == 0, f"{pause.evidence}; {count} entry order(s) after it"
    )


def flatten_and_emergency_steps(live: LiveSet, conn: psycopg.Connection, timeout_s: float) -> list[Check]:
    """FLATTEN (the executor carries it out and sets PAUSE back) and EMERGENCY (the breaker opens), each
    with the venue's open orders of the account afterwards."""
    venue = connect_venue(live.sim_url, live.key)
    answer = post(live, "/api/kill-switch/flatten", {"why": "campaign step: FLATTEN"})
    done = answer.status_code == 200 and _until(
        lambda: _control(conn)[0] == "PAUSE" and _control(conn)[1] != "polywindow campaign", timeout_s
    )
    left = len(venue.client.get_open_orders())
    flatten = Check(
        "kill_switch.FLATTEN",
        done and left == 0,
        f"back to {_control(conn)} by the executor, {left} open order(s)",
    )
    answer = post(live, "/api/kill-switch/emergency", {"why": "campaign step: EMERGENCY"})

    def breaker_open() -> bool:
        row = conn.execute("SELECT state, cause FROM breaker_events ORDER BY id DESC LIMIT 1").fetchone()
        return bool(row and row[0] == "OPEN" and "EMERGENCY" in str(row[1]))

    tripped = answer.status_code == 200 and _until(breaker_open, timeout_s)
    left = len(venue.client.get_open_orders())
    emergency = Check(
        "kill_switch.EMERGENCY", tripped and left == 0, f"breaker opened: {tripped}, {left} open order(s)"
    )
    return [flatten, emergency]


def poll_until_enough(
    conn: psycopg.Connection, plan: CanaryPlan, since: datetime, echo: Echo, alive: Callable[[], str | None]
) -> tuple[dict[str, tuple[str, str | None]], str]:
    """Wait (polling PostgreSQL) until `enough`, a child died, or `plan.max_minutes` passed."""
    deadline = time.monotonic() + plan.max_minutes * 60
    said = ""
    grace = timedelta(minutes=3)
    while True:
        done = settled_windows(conn, since, datetime.now(UTC), grace)
        ready, why = enough(done, plan)
        if why != said:
            echo(f"campaign: {why}")
            said = why
        if ready:
            return done, why
        dead = alive()
        if dead is not None:
            return done, dead
        if time.monotonic() > deadline:
            return done, f"stopped after {plan.max_minutes:g} min: {why}"
        time.sleep(2.0)
