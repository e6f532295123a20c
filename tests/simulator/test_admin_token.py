"""The admin token: never a fixed string; a setting, or one generated per stack into a 0600 file that
`polywindow sim` reuses and never prints."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from pydantic import SecretStr

from simulator.admin_token import TOKEN_FILE, read_admin_token, stack_admin_token
from simulator.config import SimulatorConfig
from tests.integration.cli import POLYWINDOW, REPO


def test_a_token_is_generated_once_per_stack_into_an_owner_only_file(tmp_path: Path) -> None:
    stack = tmp_path / "stack"
    first = stack_admin_token(stack)
    path = stack / TOKEN_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first.get_secret_value()) >= 32
    assert stack_admin_token(stack) == first == read_admin_token(stack)
    assert stack_admin_token(tmp_path / "other") != first
    assert [p.name for p in stack.iterdir()] == [TOKEN_FILE]


def test_a_given_token_wins_and_no_file_is_written(tmp_path: Path) -> None:
    assert stack_admin_token(tmp_path, SecretStr("chosen")).get_secret_value() == "chosen"
    assert not (tmp_path / TOKEN_FILE).exists()


def test_an_empty_token_file_is_replaced(tmp_path: Path) -> None:
    (tmp_path / TOKEN_FILE).write_text("\n")
    token = stack_admin_token(tmp_path)
    assert token.get_secret_value() and read_admin_token(tmp_path) == token


def test_configs_built_without_a_token_do_not_share_one() -> None:
    first, second = SimulatorConfig().admin_token, SimulatorConfig().admin_token
    assert first != second and "sim-admin" not in (first.get_secret_value(), second.get_secret_value())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def sim_command(env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    proc = subprocess.Popen(
        [str(POLYWINDOW), "sim", "--port", str(port), "--scenario", "empty"],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "the simulator did not answer"
            try:
                httpx.get(f"{url}/ok", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def faults_status(url: str, token: str) -> int:
    return httpx.get(f"{url}/_admin/faults", headers={"X-Admin-Token": token}, timeout=10).status_code


def test_sim_command_generates_the_stack_token_and_never_prints_it(tmp_path: Path) -> None:
    env = {"POLYWINDOW_STACK_DIR": str(tmp_path), "POLYWINDOW_SIM_ADMIN_TOKEN": ""}
    with sim_command(env) as (url, proc):
        token = read_admin_token(tmp_path)
        assert token is not None
        assert stat.S_IMODE((tmp_path / TOKEN_FILE).stat().st_mode) == 0o600
        assert faults_status(url, token.get_secret_value()) == 200
        assert faults_status(url, "sim-admin") == 401
    output = proc.communicate()[0]
    assert token.get_secret_value() not in output and TOKEN_FILE in output
    with sim_command(env) as (url, _):
        assert read_admin_token(tmp_path) == token, "the stack's token is reused"
        assert faults_status(url, token.get_secret_value()) == 200


def test_sim_command_takes_the_token_from_its_setting(tmp_path: Path) -> None:
    env = {"POLYWINDOW_STACK_DIR": str(tmp_path), "POLYWINDOW_SIM_ADMIN_TOKEN": "from-the-setting-0123"}
    with sim_command(env) as (url, proc):
        assert faults_status(url, "from-the-setting-0123") == 200
        assert not (tmp_path / TOKEN_FILE).exists()
    assert "from-the-setting-0123" not in proc.communicate()[0]
