"""Command center: the mode, balance and session P&L; PAUSE / FLATTEN / EMERGENCY (and RESUME) behind a
confirmation, through the API; the active strategies; open positions; the activity feed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

import streamlit as st

from core.operator_view import operator_mode, position_mark
from streamlit_app.api_client import ApiError
from streamlit_app.session import api, config, reader
from streamlit_app.views import attempt, table

__all__ = ["render"]

WHAT = {
    "pause": "no new entries; open positions keep their exits.",
    "flatten": "cancel our open orders and sell every held position, then PAUSE.",
    "emergency": "cancel every order of the account, flatten what can be, open the breaker and stop.",
    "resume": "back to RUN: new entries allowed again.",
}


@st.dialog("Confirm")
def _confirm(action: str) -> None:
    st.markdown(f"**{action.upper()}**: {WHAT[action]}")
    why = st.text_input("Why (recorded in the audit log)", key=f"why-{action}")
    if st.button(f"Confirm {action.upper()}", type="primary", key=f"confirm-{action}"):
        if not why.strip():
            st.warning("Say why: it goes into the audit log.")
            return
        try:
            changed = api().kill_switch(action, why.strip())
        except ApiError as exc:
            st.error(str(exc))
            return
        st.session_state["flash"] = f"kill switch: {changed['previous']} → {changed['value']}"
        st.rerun()


def _session_start(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _balance(balances: list[dict[str, Any]] | None, mode: str) -> str:
    for row in balances or []:
        if row["mode"] == mode:
            return f"${Decimal(row['balance']):,.2f}"
    return "not marked yet"


@st.fragment(run_every=config().refresh_s)
def _live() -> None:
    now = datetime.now(UTC)
    controls = attempt("Controls", api().controls)
    values = {name: row["value"] for name, row in (controls or {}).items()}
    balances = attempt("Balance", reader().balances)
    closed = attempt("Session P&L", lambda: reader().closed_since(_session_start(now)))
    mode = operator_mode(values)
    cols = st.columns(4)
    cols[0].metric("Mode", mode)
    cols[1].metric("Kill switch", values.get("kill_switch", "unknown"))
    cols[2].metric("Balance", _balance(balances, values.get("trading_mode", "")))
    pnl = sum((Decimal(r["realized_pnl_usd"]) for r in closed or []), Decimal(0))
    cols[3].metric("Session P&L (realised, UTC day)", f"${pnl:,.2f}")

    st.subheader("Active strategies")
    strategies = [
        {"strategy": name, "parameters": json.dumps(params) if params else "defaults"}
        for name, params in sorted(config().strategies.items())
    ]
    table(strategies, "No strategy configured (POLYWINDOW_FLOW_STRATEGIES).")
    st.caption(f"allowed_strategies control: {values.get('allowed_strategies', 'unknown')}")

    st.subheader("Open positions")
    table(
        _marked(attempt("Open positions", reader().open_positions)),
        "No positions yet.",
        [
            "window_id",
            "side",
            "strategy",
            "state",
            "size",
            "entry",
            "current",
            "unrealised_pnl_usd",
            "stop_level",
            "cost_usd",
            "opened_at",
        ],
    )
    st.caption(
        "Current: the best bid in the API's live view (what selling would get); stop level: the bid at"
        " which the executor's default stop-loss fires."
    )

    st.subheader("Activity")
    left, right = st.columns(2)
    with left:
        st.markdown("**Operator actions** (audit log)")
        audit = attempt("Audit log", lambda: api().history("audit", limit=15))
        table(
            None if audit is None else audit.rows,
            "No operator action yet.",
            ["at", "actor", "action", "subject"],
        )
    with right:
        st.markdown("**Orders**")
        orders = attempt("Orders", lambda: api().history("orders", limit=15))
        table(
            None if orders is None else orders.rows,
            "No orders yet.",
            ["created_at", "window_id", "side", "price", "size", "status"],
        )
    st.markdown("**Alerts**")
    table(attempt("Alerts", reader().alerts), "No alerts.", ["event_ts", "severity", "kind", "message"])


def render() -> None:
    st.title("Command center")
    slot = st.container()  # always there, so what follows keeps its place while the page redraws
    flash = st.session_state.pop("flash", None)
    if flash:
        slot.success(flash)
    buttons = st.columns([1, 1, 1, 1, 2])
    for col, action in zip(buttons, ("pause", "flatten", "emergency", "resume"), strict=False):
        kind: Literal["primary", "secondary"] = "primary" if action == "emergency" else "secondary"
        if col.button(action.upper(), key=f"btn-{action}", type=kind, width="stretch"):
            _confirm(action)
    _live()


def _marked(positions: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """Each open position with its current bid from the live view, unrealised P&L and stop level."""
    if not positions:
        return positions
    bids: dict[tuple[str, str], Decimal] = {}
    try:
        for inst in api().live().get("instruments", []):
            for side in ("up", "down"):
                bid = (inst.get(side) or {}).get("best_bid")
                if bid is not None:
                    bids[(str(inst.get("window_id")), side.upper())] = Decimal(str(bid))
    except (ApiError, OSError, ValueError):
        pass  # no live view: the marks stay empty, the positions still show
    marked = []
    for row in positions:
        size, cost = Decimal(str(row["size"])), Decimal(str(row["cost_usd"]))
        marks = position_mark(size, cost, bids.get((str(row["window_id"]), str(row["side"]))))
        marked.append({**row, **marks})
    return marked
