"""Instrument view: the windows trading now with their strike and the venue's price to beat, the feeds
coloured by last-tick age, and what is (and is not yet) available of the books and strategies."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import streamlit as st

from core.operator_view import feed_colour
from streamlit_app.session import api, config, reader
from streamlit_app.views import DOT, attempt, table

__all__ = ["render"]


def _window_rows(rows: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    return [
        {
            "window": r["window_id"],
            "asset": r["asset"].upper(),
            "length": f"{r['interval_s'] // 60} min",
            "ends": r["end_ts"],
            "left": f"{max(int((r['end_ts'] - now).total_seconds()), 0)} s",
            "strike": r["strike"],
            "venue price to beat": r["venue_price_to_beat"],
        }
        for r in rows
    ]


@st.fragment(run_every=config().refresh_s)
def _live() -> None:
    now = datetime.now(UTC)
    st.subheader("Current windows")
    rows = attempt("Windows", lambda: reader().current_windows(now))
    table(
        None if rows is None else _window_rows(rows, now),
        "No window is open right now (is `feeds` running?).",
    )

    st.subheader("Feed health")
    body = attempt("Health", api().health)
    if body is not None:
        feeds = body["feeds"]
        if not feeds:
            st.info("No feed has reported yet.")
        else:
            cols = st.columns(min(len(feeds), 4))
            for i, feed in enumerate(feeds):
                raw = feed.get("last_tick_age_ms")
                age = None if raw is None else Decimal(str(raw))
                text = "never ticked" if age is None else f"{age / 1000:.1f} s since last tick"
                cols[i % len(cols)].markdown(f"### {DOT[feed_colour(age)]} {feed['feed']}\n{text}")
        st.caption("Green under 2 s, yellow under 5 s, red beyond.")

    st.subheader("Books and oracle price")
    st.info(
        "The live books (md.book) and oracle prints (md.oracle) are on Kafka and are not stored; "
        "this view shows the strike and the venue's price to beat from the database."
    )
    st.subheader("What each strategy sees")
    strategies = [{"strategy": name} for name in sorted(config().strategies)]
    table(strategies, "No strategy configured.")
    st.caption(
        "The strategies' inputs are not published yet; the orders they lead to are in the command center's activity."
    )


def render() -> None:
    st.title("Instrument view")
    _live()
