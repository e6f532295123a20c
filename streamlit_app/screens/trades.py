"""Trade history through the API: fills (gross, fee, net, slippage), positions, orders, the settlement
check (our outcome against the venue's) and the audit log, filtered, with a CSV export."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import streamlit as st

from core.operator_view import position_outcome
from streamlit_app.session import api, config
from streamlit_app.views import attempt, table

__all__ = ["render"]

KINDS = {
    "fills": "Fills: gross, fee, net and slippage against the order's limit",
    "positions": "Positions",
    "orders": "Orders",
    "settlements": "Settlement check: our outcome against the venue's",
    "audit": "Audit log",
}
COLUMNS = {
    "fills": [
        "source_ts",
        "window_id",
        "side",
        "price",
        "size",
        "gross_usd",
        "fee_usd",
        "net_usd",
        "slippage",
        "is_maker",
        "status",
        "mode",
    ],
    "positions": [
        "opened_at",
        "closed_at",
        "window_id",
        "strategy",
        "state",
        "avg_entry_price",
        "cost_usd",
        "realized_pnl_usd",
        "mode",
    ],
    "orders": [
        "created_at",
        "window_id",
        "side",
        "order_type",
        "price",
        "size",
        "size_matched",
        "status",
        "mode",
    ],
    "settlements": [
        "end_ts",
        "window_id",
        "strike",
        "venue_price_to_beat",
        "venue_final_price",
        "our_outcome",
        "venue_outcome",
        "agrees",
    ],
    "audit": ["at", "actor", "action", "subject", "detail"],
}
WINDOWED = {"fills", "positions", "orders", "settlements"}
MODED = {"fills", "positions", "orders"}


def _filters(kind: str) -> dict[str, str | int]:
    cols = st.columns(3)
    today = datetime.now(UTC).date()
    picked = cols[0].date_input("Dates (UTC)", value=(today - timedelta(days=7), today))
    params: dict[str, str | int] = {"limit": 500}
    if isinstance(picked, tuple) and len(picked) == 2 and all(isinstance(d, date) for d in picked):
        params["since"] = datetime.combine(picked[0], time.min, UTC).isoformat()
        params["until"] = datetime.combine(picked[1] + timedelta(days=1), time.min, UTC).isoformat()
    if kind in WINDOWED:
        window = cols[1].text_input("Instrument (window id)", placeholder="btc-updown-5m-...")
        if window.strip():
            params["window_id"] = window.strip()
    if kind in MODED:
        mode = cols[2].selectbox("Mode", ["any", "LIVE", "DRY_RUN", "PAPER", "BACKTEST"])
        if mode != "any":
            params["mode"] = mode
    return params


def _narrow(kind: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The filters the API has no parameter for: strategy and outcome (positions), agreement (settlements)."""
    cols = st.columns(3)
    if kind == "positions":
        strategies = sorted({r["strategy"] for r in rows})
        strategy = cols[0].selectbox("Strategy", ["any", *strategies])
        outcome = cols[1].selectbox("Outcome", ["any", "won", "lost", "even", "open"])
        return [
            r
            for r in rows
            if strategy in ("any", r["strategy"])
            and outcome in ("any", position_outcome(r["state"], Decimal(r["realized_pnl_usd"])))
        ]
    if kind == "settlements":
        check = cols[0].selectbox("Settlement check", ["any", "agrees", "disagrees"])
        if check == "any":
            return rows
        return [r for r in rows if bool(r["agrees"]) is (check == "agrees")]
    return rows


@st.fragment(run_every=config().refresh_s * 5)
def _rows(kind: str, params: dict[str, str | int]) -> None:
    found = attempt(KINDS[kind], lambda: api().history(kind, **params))
    if found is None:
        return
    rows = _narrow(kind, found.rows)
    st.caption(f"{len(rows)} row(s), newest first")
    table(rows, f"No {kind} yet for these filters.", COLUMNS[kind])


def render() -> None:
    st.title("Trade history")
    kind = st.radio("Show", list(KINDS), format_func=lambda k: KINDS[k].split(":")[0], horizontal=True)
    st.caption(KINDS[kind])
    params = _filters(kind)
    _rows(kind, params)
    csv = attempt("CSV export", lambda: api().history_csv(kind, **params))
    if csv is not None:
        st.download_button(
            f"Download {kind}.csv", csv, file_name=f"{kind}.csv", mime="text/csv", key=f"csv-{kind}"
        )
        st.caption("The CSV comes from the API with the date, instrument and mode filters.")
