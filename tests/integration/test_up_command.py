"""`polywindow up` (what `make run` calls): the simulator first, feeds and record once it answers, data
where the operator looks for it, and a Ctrl-C at the terminal stops everything quietly with exit 0.
A port that is already taken is refused before any child starts, naming the port and the setting."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from core.models import BookSnapshot
from infra import stack
from sinks.archive import part_files
from tests.integration.cli import POLYWINDOW, REPO
from tests.integration.feeds_harness import TopicTail, wait_for
from tests.integration.test_feeds_command import as_url

pytestmark = [pytest.mark.stack, pytest.mark.timeout(150)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _up(port: int, env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    """`up` as a terminal runs it: the leader of its own process group, which Ctrl-C signals whole."""
    with open(log, "w") as out:
        return subprocess.Popen(
            [str(POLYWINDOW), "up", "--port", str(port), "--seed", "7"],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )


def _windows(database_url: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(database_url) as conn:
        try:
            rows = conn.execute("SELECT window_id, up_token_id, down_token_id FROM windows").fetchall()
        except psycopg.errors.UndefinedTable:  # `up` has not migrated the fresh database yet
            return []
    return [(str(w), str(u), str(d)) for w, u, d in rows]


def _control(database_url: str, name: str) -> tuple[str, str]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT value #>> '{}', updated_by FROM runtime_controls WHERE name = %s", (name,)
        ).fetchone()
    assert row is not None
    return str(row[0]), str(row[1])


def _archived_parts(archive: Path) -> list[Path]:
    return [p for day in archive.glob("md.*/date=*") for p in part_files(day)]


@pytest.fixture
def log(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "up.log"
    yield path


def _surface_ports() -> dict[str, str]:
    """Free ports for the API and the dashboard, so an operator's `make run` is never in the way."""
    return {"POLYWINDOW_API_PORT": str(_free_port()), "POLYWINDOW_DASHBOARD_PORT": str(_free_port())}


def _ctrl_c(proc: subprocess.Popen[str]) -> None:
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C at the terminal does: the whole foreground group


def _supervisor_stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)  # a supervisor signals `up` alone


@pytest.mark.parametrize("stop", [_ctrl_c, _supervisor_stop], ids=["ctrl-c", "sigterm"])
def test_up_serves_data_from_every_child_and_a_stop_ends_them_all_quietly_with_exit_0(
    endpoints: stack.Endpoints,
    own_kafka: tuple[stack.Endpoints, dict[str, str]],
    fresh_database: str,
    tmp_path: Path,
    log: Path,
    stop: Callable[[subprocess.Popen[str]], None],
) -> None:
    port, archive = _free_port(), tmp_path / "archive"
    kafka, kafka_env = own_kafka
    database_url = as_url(endpoints.database_url, fresh_database)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "POLYWINDOW_ARCHIVE_DIR": str(archive),
        "POLYWINDOW_ARCHIVE_START": "end",
        "POLYWINDOW_ARCHIVE_ROLL_ROWS": "1",  # a part on disk per record: visible while it runs
        "POLYWINDOW_FEED_ASSETS": "btc",
        "POLYWINDOW_FEED_INTERVALS_S": "300",
        "POLYWINDOW_GAMMA_POLL_S": "1",
        **kafka_env,
        **_surface_ports(),
    }
    books = TopicTail(kafka.kafka_bootstrap, kafka.kafka_embedded, "md.book")
    proc = _up(port, env, log)
    try:
        # feeds found the simulator's windows (rows in the operator's database)...
        wait_for(lambda: len(_windows(database_url)) >= 2, 60, "windows rows from the feeds child")
        tokens = {t for _, up, down in _windows(database_url) for t in (up, down)}
        # ...subscribed to their books on the simulator's market socket...
        books.read(
            lambda e: isinstance(e, BookSnapshot) and e.token_id in tokens, lambda ev: len(ev) >= 1, 30
        )
        # ...and the recorder archived market data as it arrived.
        wait_for(lambda: len(_archived_parts(archive)) >= 1, 30, "an archived part from the record child")
        family = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        assert sorted(p.cmdline()[2] for p in family[0].children()) == [
            "api",
            "dashboard",
            "execute",
            "feeds",
            "flow",
            "record",
            "sim",
            "sink",
            "watch",
        ]
        # ...and up ended its start by printing where the operator's surface is (once both answer).
        api_url = f"http://127.0.0.1:{env['POLYWINDOW_API_PORT']}"
        wait_for(
            lambda: f"api: {api_url} (OpenAPI at {api_url}/docs)" in log.read_text(), 90, "up's addresses"
        )
        assert f"dashboard: http://127.0.0.1:{env['POLYWINDOW_DASHBOARD_PORT']}\n" in log.read_text()
        # ...having set the never-set controls for the DRY_RUN canary, through the API (audited).
        assert "controls: allowed_instruments, allowed_strategies, kill_switch set" in log.read_text()
        assert _control(database_url, "kill_switch") == ("RUN", "polywindow up")
        wait_for(lambda: "\nflow: " in log.read_text(), 90, "the flow child to start")
        stop(proc)
        proc.wait(timeout=45)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        books.close()
    out = log.read_text()
    assert proc.returncode == 0, out
    assert "Traceback" not in out and "never retrieved" not in out, out
    assert "running: sim, feeds, record, sink, flow" in out
    stops = (
        "simulator: stopped",
        "feeds: stopped",
        "record: stopped",
        "sink: stopped",
        "flow: stopped",
        "execute: stopped",
        "watch: stopped",
        "api: stopped",
        "dashboard: stopped",
        "polywindow up: stopped",
    )
    for line in stops:
        assert out.count(line) == 1, (line, out)
    assert all(not p.is_running() or p.status() == psutil.STATUS_ZOMBIE for p in family)


def test_a_taken_port_is_refused_naming_it_and_the_setting_before_any_child_starts(
    endpoints: stack.Endpoints, tmp_path: Path, log: Path
) -> None:
    with socket.socket() as foreign:
        foreign.bind(("127.0.0.1", 0))
        foreign.listen()
        port = int(foreign.getsockname()[1])
        env = {**os.environ, "POLYWINDOW_ARCHIVE_DIR": str(tmp_path / "archive"), **_surface_ports()}
        proc = _up(port, env, log)
        started: set[str] = set()
        deadline = time.monotonic() + 60
        try:
            while proc.poll() is None and time.monotonic() < deadline:  # every child it starts
                for child in psutil.Process(proc.pid).children():
                    with contextlib.suppress(psutil.Error, IndexError):
                        started.add(child.cmdline()[2])
                time.sleep(0.02)
        except psutil.NoSuchProcess:
            pass
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    out = log.read_text()
    assert proc.returncode == 2, out
    assert f"port {port}" in out and "--port" in out and "POLYWINDOW_SIM_PORT" in out
    assert started == set(), started
    assert not (tmp_path / "archive").exists()


def test_a_foreign_server_on_the_port_given_by_the_setting_is_refused_by_sim_too(log: Path) -> None:
    with socket.socket() as foreign:
        foreign.bind(("127.0.0.1", 0))
        foreign.listen()
        port = foreign.getsockname()[1]
        result = subprocess.run(
            [str(POLYWINDOW), "sim"],
            cwd=REPO,
            env={**os.environ, "POLYWINDOW_SIM_PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"port {port}" in result.stderr and "POLYWINDOW_SIM_PORT" in result.stderr


def test_ctrl_c_while_the_children_are_still_starting_is_a_clean_stop_too(
    endpoints: stack.Endpoints, tmp_path: Path, log: Path
) -> None:
    env = {**os.environ, "POLYWINDOW_ARCHIVE_DIR": str(tmp_path / "archive"), **_surface_ports()}
    proc = _up(_free_port(), env, log)
    try:
        wait_for(
            lambda: "running: sim, feeds, record, sink, flow" in log.read_text(),
            60,
            "the children to be started",
        )
        _ctrl_c(proc)
        proc.wait(timeout=45)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    out = log.read_text()
    assert proc.returncode == 0, out
    assert "Traceback" not in out, out
    assert out.count("polywindow up: stopped") == 1, out


def test_children_stop_when_up_itself_is_killed(
    endpoints: stack.Endpoints, tmp_path: Path, log: Path
) -> None:
    env = {**os.environ, "POLYWINDOW_ARCHIVE_DIR": str(tmp_path / "archive"), **_surface_ports()}
    proc = _up(_free_port(), env, log)
    try:
        wait_for(
            lambda: "running: sim, feeds, record, sink, flow" in log.read_text(),
            60,
            "the children to be started",
        )
        children = psutil.Process(proc.pid).children()
        assert len(children) == 9
        proc.kill()  # no chance to stop them: the kernel tells each child its parent died
        proc.wait()
        _gone, alive = psutil.wait_procs(children, timeout=45)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    for child in alive:
        child.kill()
    assert alive == [], [c.cmdline() for c in alive]
