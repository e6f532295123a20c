"""Campaigns (issue 14): the verification runs (`polywindow campaign canary|stops`) with their verdict,
the pre-deployment evidence they give, and a run's windows and failed checks. Read-only SQL on the
`campaign_*` tables (migration 0015)."""

from __future__ import annotations

from typing import Any

import psycopg
import streamlit as st
from psycopg.rows import dict_row

from streamlit_app.session import config
from streamlit_app.views import attempt, table

__all__ = ["render"]

RUNS = """
SELECT run_id, kind, started_at, finished_at, windows, checks, failed, assertion_failures, passed
FROM campaign_runs ORDER BY started_at DESC LIMIT 50
"""
WINDOWS = """
SELECT window_id, instrument, variant, our_outcome, venue_outcome, passed
FROM campaign_windows WHERE run_id = %s ORDER BY variant, window_id
"""
CHECKS = """
SELECT coalesce(window_id, 'run') AS window, variant, name, passed, evidence
FROM campaign_checks WHERE run_id = %s AND (NOT passed OR window_id IS NULL) ORDER BY passed, id
"""


def _rows(query: str, *params: Any) -> list[dict[str, Any]]:
    with psycopg.connect(
        config().database_url.get_secret_value(),
        connect_timeout=3,
        options="-c default_transaction_read_only=on -c statement_timeout=3000",
        row_factory=dict_row,
    ) as conn:
        return list(conn.execute(query, params).fetchall())


def render() -> None:
    st.header("Verification campaigns")
    runs = attempt("Campaign runs", lambda: _rows(RUNS))
    table(runs, "No campaign has run yet.")
    if not runs:
        return
    chosen = st.selectbox("Run", [r["run_id"] for r in runs])
    st.subheader("Run-level and failed checks")
    table(attempt("Checks", lambda: _rows(CHECKS, chosen)), "Every check passed.")
    st.subheader("Windows")
    table(attempt("Windows", lambda: _rows(WINDOWS, chosen)), "No window in this run.")
