"""The dashboard's configuration, handed in by the composition root (`polywindow dashboard`) before
Streamlit starts in the same process; the dashboard itself never reads the environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

__all__ = ["DashboardConfig", "current", "install"]


@dataclass(frozen=True)
class DashboardConfig:
    api_url: str
    api_token: SecretStr | None  # None: the dashboard reads, and its buttons say why they cannot write
    database_url: SecretStr  # read-only sessions only (queries.py)
    refresh_s: float = 2.0
    operator: str = "dashboard"
    strategies: dict[str, dict[str, Any]] = field(default_factory=dict)


_installed: list[DashboardConfig] = []


def install(config: DashboardConfig) -> None:
    _installed[:] = [config]


def current() -> DashboardConfig:
    if not _installed:
        raise RuntimeError("the dashboard was started without its configuration: use `polywindow dashboard`")
    return _installed[0]
