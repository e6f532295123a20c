"""The operator's surface in `polywindow up`: the API and the dashboard as children, sharing one bearer
token (POLYWINDOW_API_TOKEN, else one generated into the stack directory as `api.token`, mode 0600,
reused, never printed), and the addresses `up` prints once both answer."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

import httpx

from polywindow.settings import DashboardSettings
from simulator.admin_token import stack_admin_token

__all__ = ["API_TOKEN_FILE", "Surface", "answers", "exited", "surface"]

API_TOKEN_FILE = "api.token"


@dataclass(frozen=True)
class Surface:
    env: dict[str, str]  # for both children: the token and where the dashboard finds the API
    api_url: str
    dashboard_url: str


def _local(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def surface(settings: DashboardSettings) -> Surface:
    token = stack_admin_token(settings.stack_dir, settings.api_token, API_TOKEN_FILE)
    api_url = f"http://{_local(settings.api_host)}:{settings.api_port}"
    return Surface(
        env={"POLYWINDOW_API_TOKEN": token.get_secret_value(), "POLYWINDOW_API_URL": api_url},
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
