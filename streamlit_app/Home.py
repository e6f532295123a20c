"""The dashboard's entry point (`polywindow dashboard` serves it): system health in the sidebar of
every page, then the page chosen. Reads through the API and read-only SQL; writes only through the API."""

from __future__ import annotations

import streamlit as st

from streamlit_app.health_panel import render_health
from streamlit_app.screens import campaigns, command_center, instrument, review, risk, trades
from streamlit_app.session import api, config, reader

st.set_page_config(page_title="polywindow", page_icon="📈", layout="wide")


@st.fragment(run_every=config().refresh_s)
def _health() -> None:
    render_health(api(), reader())


page = st.navigation(
    [
        st.Page(command_center.render, title="Command center", url_path="command-center", default=True),
        st.Page(instrument.render, title="Instrument", url_path="instrument"),
        st.Page(risk.render, title="Risk", url_path="risk"),
        st.Page(trades.render, title="Trade history", url_path="trades"),
        st.Page(campaigns.render, title="Campaigns", url_path="campaigns"),
        st.Page(review.render, title="Strategy review", url_path="review"),
    ],
    position="top",
)
with st.sidebar:
    _health()
page.run()
