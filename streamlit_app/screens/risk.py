"""Risk: the session drawdown, P&L per strategy, stop-loss and take-profit triggers, the runtime
controls editor (through the API) and the assertion board."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import streamlit as st

from core.assertions import ASSERTION_NAMES
from core.operator_view import drawdown
from streamlit_app.api_client import ApiError
from streamlit_app.session import api, config, reader
from streamlit_app.views import attempt, table, when

__all__ = ["render"]


def _drawdown_chart(closed: list[dict[str, Any]]) -> None:
    if not closed:
        st.info("No position closed this session yet: no drawdown to chart.")
        return
    steps = drawdown(Decimal(r["realized_pnl_usd"]) for r in closed)
    st.line_chart(
        {"closed at": [r["closed_at"] for r in closed], "drawdown (USD)": [float(d) for d in steps]},
        x="closed at",
        y="drawdown (USD)",
    )


def _assertion_board(body: dict[str, Any] | None) -> None:
    if body is None:
        return
    latest = {a["name"]: a for a in body["assertions"]}
    cols = st.columns(5)
    for i, name in enumerate(ASSERTION_NAMES):
        found = latest.get(name)
        if found is None:
            cols[i % 5].markdown(f":gray[●] **{name}**  \n:gray[not run yet]")
        else:
            verdict = ":green[● pass]" if found["passed"] else ":red[● FAIL]"
            detail = "" if found["passed"] else f"  \n{found['detail']}"
            cols[i % 5].markdown(f"{verdict} **{name}**  \nlast run {when(found['event_ts'])}{detail}")


@st.fragment(run_every=config().refresh_s)
def _live() -> None:
    now = datetime.now(UTC)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    st.subheader("Assertions")
    _assertion_board(attempt("Assertions", api().health))
    st.subheader("Session drawdown")
    closed = attempt("Closed positions", lambda: reader().closed_since(start))
    if closed is not None:
        _drawdown_chart(closed)
    st.subheader("P&L per strategy (UTC day)")
    table(attempt("P&L", lambda: reader().pnl_by_strategy(start)), "No positions this session yet.")
    st.subheader("Stop-loss and take-profit triggers")
    table(attempt("Triggers", reader().triggers), "No stop-loss or take-profit has triggered.")
    st.subheader("Runtime controls")
    controls = attempt("Controls", api().controls)
    if controls is not None:
        table(
            [
                {"control": k, "value": v["value"], "by": v["updated_by"], "at": v["updated_at"]}
                for k, v in sorted(controls.items())
            ],
            "No controls in the table yet.",
        )


def _editor() -> None:
    with st.form("controls-editor", clear_on_submit=False):
        st.markdown("**Change a control** (validated by the API, audited)")
        left, mid = st.columns(2)
        name = left.selectbox(
            "Control",
            [
                "kill_switch",
                "trading_mode",
                "max_position_usd",
                "max_session_loss_usd",
                "allowed_instruments",
                "allowed_strategies",
            ],
        )
        value = mid.text_input("New value", placeholder='PAUSE, 5.50, ["btc-5m"] or btc-5m,eth-5m')
        why = st.text_input("Why (recorded in the audit log)")
        if st.form_submit_button("Apply"):
            if not why.strip():
                st.warning("Say why: it goes into the audit log.")
                return
            try:
                changed = api().set_control(name, value, why.strip())
            except ApiError as exc:
                st.error(str(exc))
                return
            st.success(f"{changed['name']}: {changed['previous']} → {changed['value']}")


def _breaker_reset() -> None:
    with st.expander("Reset the circuit breaker"):
        why = st.text_input("Why (recorded in the audit log)", key="breaker-why")
        if st.button("Reset breaker", key="breaker-reset"):
            if not why.strip():
                st.warning("Say why: it goes into the audit log.")
                return
            try:
                api().reset_breaker(why.strip())
            except ApiError as exc:
                st.error(str(exc))
                return
            st.success("breaker closed")


def render() -> None:
    st.title("Risk")
    _live()
    _editor()
    _breaker_reset()
