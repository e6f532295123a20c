"""The pre-deployment checklist read from the stored campaign evidence, and the gate `execute --mode
LIVE` passes through before it talks to a venue that is not the local simulator.

The decision is `core.campaign_checklist`; this module reads the evidence (campaign runs, the
dashboard's health answer), prints the lines, and audits an operator's override.
"""

from __future__ import annotations

import getpass
import socket

import httpx
import psycopg
from psycopg.types.json import Jsonb

from core.campaign_checklist import (
    ChecklistEvidence,
    ChecklistLine,
    GateDecision,
    checklist,
    is_simulator_address,
    live_gate,
)
from polywindow.settings import DashboardSettings, SettingsError, load
from sinks.postgres.campaign_store import run_summaries

__all__ = ["checklist_lines", "dashboard_url", "enforce_checklist"]


def dashboard_url() -> str:
    try:
        settings = load(DashboardSettings)
        host, port = settings.dashboard_host, settings.dashboard_port
    except SettingsError:
        host, port = "127.0.0.1", 8501
    return f"http://{host}:{port}"


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/_stcore/health", timeout=3.0).status_code == 200
    except httpx.HTTPError:
        return False


def checklist_lines(conn: psycopg.Connection, dashboard: str | None = None) -> list[ChecklistLine]:
    """Seed 3.1's lines from `campaign_runs`/`campaign_checks` and the dashboard answering now."""
    url = dashboard or dashboard_url()
    return checklist(ChecklistEvidence(run_summaries(conn), url, _answers(url)))


def enforce_checklist(database_url: str, venue_url: str, override_reason: str | None) -> GateDecision:
    """The gate's decision for `venue_url`; an override that lets LIVE start is written to `audit_log`
    (who, where, why, what was missing) before anything is sent to the venue."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        lines = [] if is_simulator_address(venue_url) else checklist_lines(conn)
        decision = live_gate(venue_url, lines, override_reason)
        if decision.overridden:
            conn.execute(
                "INSERT INTO audit_log (actor, action, subject, detail) VALUES (%s, 'checklist_override', %s, %s)",
                (
                    f"{getpass.getuser()}@{socket.gethostname()}",
                    venue_url,
                    Jsonb(
                        {
                            "reason": (override_reason or "").strip(),
                            "missing": [f"{line.item}: {line.where}" for line in lines if not line.confirmed],
                        }
                    ),
                ),
            )
    return decision
