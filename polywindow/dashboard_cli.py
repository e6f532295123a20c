"""`polywindow dashboard`: construction only. Loads the settings, hands the dashboard its configuration
(API address and token, the database for read-only SQL, the strategies `flow` runs) and serves
streamlit_app/Home.py with Streamlit in this process, on loopback unless told otherwise."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

from polywindow.settings import DashboardSettings, FlowSettings, SettingsError, load

SCRIPT = Path(__file__).resolve().parent.parent / "streamlit_app" / "Home.py"


def serve_dashboard() -> None:
    """The Streamlit dashboard on POLYWINDOW_DASHBOARD_HOST:POLYWINDOW_DASHBOARD_PORT (127.0.0.1:8501)
    until Ctrl-C or SIGTERM; it reads the API at POLYWINDOW_API_URL and writes only through it."""
    from pydantic import SecretStr
    from streamlit.web import bootstrap

    from polywindow.cli_common import fail
    from polywindow.cli_common import reach as _reach
    from polywindow.processes import port_taken
    from streamlit_app.config import DashboardConfig, install

    try:
        settings = load(DashboardSettings)
        flow = load(FlowSettings)
    except SettingsError as exc:
        fail(str(exc))
    if settings.dashboard_host == "127.0.0.1" and port_taken(settings.dashboard_port):
        fail(
            f"port {settings.dashboard_port} on 127.0.0.1 is taken; choose another with POLYWINDOW_DASHBOARD_PORT"
        )
    endpoints = _reach(settings, kafka=False)
    install(
        DashboardConfig(
            api_url=settings.api_url,
            api_token=settings.api_token,
            database_url=SecretStr(endpoints.database_url),
            refresh_s=settings.dashboard_refresh_s,
            operator=f"dashboard:{getpass.getuser()}",
            strategies=flow.strategies,
        )
    )
    flags: dict[str, object] = {
        "server.address": settings.dashboard_host,
        "server.port": settings.dashboard_port,
        "server.headless": True,
        "server.fileWatcherType": "none",
        "server.runOnSave": False,
        "browser.gatherUsageStats": False,
        "client.toolbarMode": "viewer",
        "client.showSidebarNavigation": False,
        "logger.level": "warning",
    }
    bootstrap.load_config_options(flag_options=flags)
    typer.echo(f"dashboard: http://{settings.dashboard_host}:{settings.dashboard_port} (Ctrl-C stops)")
    bootstrap.run(str(SCRIPT), False, [], flags)
    typer.echo("dashboard: stopped")
