"""The API client and the SQL reader for this dashboard process, built once from its configuration."""

from __future__ import annotations

from functools import cache

from streamlit_app.api_client import ApiClient
from streamlit_app.config import DashboardConfig, current
from streamlit_app.queries import Reader

__all__ = ["api", "config", "reader"]


def config() -> DashboardConfig:
    return current()


@cache
def api() -> ApiClient:
    return ApiClient(current())


@cache
def reader() -> Reader:
    return Reader(current())
