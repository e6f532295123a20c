"""Strategy review (issue 14, seed 3.2): each registered strategy's latest version with its
pre-registered expectation and kills, and its first ten live windows flagged for review
(`core.strategy_review.review_windows`), each with what a reviewer needs to judge the trade: the
window (strike, the venue's price to beat and final price, both outcomes), the decisions the
executor audited (the signal's reason, the price and books it saw, the risk and execution checks,
the balance), the positions (entry, size, cost, exit, P&L), the orders (type, limit, status,
detail) and their fills (price, size, fee).
Read-only SQL (the sessions the dashboard's reader opens are read-only)."""

from __future__ import annotations

import json
from typing import Any

import streamlit as st

from core.strategy_review import REVIEW_WINDOWS, review_windows
from streamlit_app.session import reader
from streamlit_app.views import attempt, table

__all__ = ["render"]

VERSIONS = """
SELECT DISTINCT ON (strategy) strategy, version, params, risk, instruments, expectation,
       registered_by, registered_at
FROM strategy_versions ORDER BY strategy, version DESC
"""
KILLS = """
SELECT strategy, version, mode, reason, settled_windows, paused, killed_at
FROM strategy_kills ORDER BY killed_at DESC LIMIT 50
"""
OPENED = """
SELECT window_id, opened_at FROM positions
WHERE strategy = %s AND mode = 'LIVE' AND opened_at >= %s ORDER BY opened_at LIMIT 500
"""
WINDOWS = """
SELECT window_id, start_ts, end_ts, strike, venue_price_to_beat, venue_final_price, our_outcome, venue_outcome
FROM windows WHERE window_id = ANY(%s)
"""
POSITIONS = """
SELECT p.window_id, CASE WHEN p.token_id = w.up_token_id THEN 'UP'
                         WHEN p.token_id = w.down_token_id THEN 'DOWN' ELSE '?' END AS side,
       p.state, p.size, p.avg_entry_price AS entry, p.cost_usd, p.fees_usd, p.slippage_usd,
       p.exit_reason, p.held_to_resolution, p.hold_reason, p.realized_pnl_usd, p.opened_at, p.closed_at,
       p.position_id
FROM positions p LEFT JOIN windows w USING (window_id)
WHERE p.strategy = %s AND p.mode = 'LIVE' AND p.window_id = ANY(%s) ORDER BY p.opened_at
"""
ORDERS = """
SELECT o.window_id, o.created_at, o.side, o.order_type, o.price, o.size, o.size_matched, o.status,
       o.detail, o.client_order_id
FROM orders o JOIN positions p ON p.position_id = o.position_id AND p.mode = o.mode AND p.run_key = o.run_key
WHERE p.strategy = %s AND o.mode = 'LIVE' AND o.window_id = ANY(%s) ORDER BY o.created_at
"""
FILLS = """
SELECT f.window_id, f.source_ts, f.side, f.price, f.size, f.fee_usd, f.is_maker, f.status, f.client_order_id
FROM fills f JOIN orders o ON o.client_order_id = f.client_order_id
JOIN positions p ON p.position_id = o.position_id AND p.mode = o.mode AND p.run_key = o.run_key
WHERE p.strategy = %s AND f.mode = 'LIVE' AND f.window_id = ANY(%s) ORDER BY f.source_ts
"""
DECISIONS = """
SELECT at, action, subject, detail->'signal'->>'reason' AS reason, detail->>'clob_price' AS clob_price,
       detail->>'risk_result' AS risk_result, detail->>'execution_check' AS execution_check,
       detail->>'balance_usd' AS balance_usd, detail->'book' AS book
FROM audit_log WHERE actor = 'execution' AND subject = ANY(%s) ORDER BY at, id
"""


def _rows(query: str, *params: Any) -> list[dict[str, Any]] | None:
    return attempt("strategy review", lambda: reader()._rows(query, *params))


def _expectation(version: dict[str, Any]) -> None:
    exp = version["expectation"]
    if exp is None:
        st.warning("No pre-registered expectation: LIVE refuses this strategy.")
        return
    kill = exp["kill"]
    st.markdown(
        f"Expected win rate {exp['win_rate_low']}-{exp['win_rate_high']}; kill: {json.dumps(kill)};"
        f" scale up: {json.dumps(exp['scale_up'])}"
    )


def _window(
    window_id: str, windows: dict[str, dict[str, Any]], found: dict[str, list[dict[str, Any]]]
) -> None:
    with st.expander(f"{window_id}", expanded=False):
        table([windows[window_id]] if window_id in windows else [], "The window is not in the database.")
        for kind in ("decisions", "positions", "orders", "fills"):
            st.caption(kind)
            table([r for r in found[kind] if r["window_id"] == window_id], f"No {kind}.")


def _strategy(version: dict[str, Any]) -> None:
    name = version["strategy"]
    st.subheader(f"{name} v{version['version']}")
    st.markdown(
        f"Registered by {version['registered_by']} at {version['registered_at']:%Y-%m-%d %H:%M:%S} UTC;"
        f" parameters `{json.dumps(version['params'])}`, risk `{json.dumps(version['risk'])}`,"
        f" instruments {', '.join(version['instruments'])}"
    )
    _expectation(version)
    opened = _rows(OPENED, name, version["registered_at"])
    if opened is None:
        return
    flagged = review_windows((r["window_id"], r["opened_at"]) for r in opened)
    if not flagged:
        st.info(f"No live window yet: the first {REVIEW_WINDOWS} will be listed here for review.")
        return
    st.markdown(f"First {len(flagged)} of {REVIEW_WINDOWS} live windows flagged for review:")
    windows = {r["window_id"]: r for r in _rows(WINDOWS, flagged) or []}
    found = {
        "positions": _rows(POSITIONS, name, flagged) or [],
        "orders": _rows(ORDERS, name, flagged) or [],
        "fills": _rows(FILLS, name, flagged) or [],
    }
    subjects = {r["position_id"]: r["window_id"] for r in found["positions"]}
    subjects |= {r["client_order_id"]: r["window_id"] for r in found["orders"]}
    decisions = _rows(DECISIONS, list(subjects)) or [] if subjects else []
    found["decisions"] = [{**d, "window_id": subjects[d["subject"]]} for d in decisions]
    for window_id in flagged:
        _window(window_id, windows, found)


def render() -> None:
    st.header("Strategy review")
    versions = _rows(VERSIONS)
    if versions is None:
        return
    if not versions:
        st.info("No strategy is registered (polywindow strategy register FILE).")
    for version in versions:
        _strategy(version)
    st.subheader("Kills")
    table(_rows(KILLS), "No strategy has been paused by its kill criterion.")
