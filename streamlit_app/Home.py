"""The dashboard's entry point (`polywindow dashboard` serves it): system health in the sidebar of
every page, then the page chosen. Reads through the API and read-only SQL; writes only through the API."""

from __future__ import annotations

import streamlit as st

from streamlit_app.health_panel import render_health
from streamlit_app.screens import PAGES
from streamlit_app.session import api, config, reader

st.set_page_config(page_title="polywindow", page_icon="📈", layout="wide")


@st.fragment(run_every=config().refresh_s)
def _health() -> None:
    render_health(api(), reader())


page = st.navigation(
    [st.Page(p.render, title=p.title, url_path=p.url_path, default=p.default) for p in PAGES],
    position="top",
)
with st.sidebar:
    _health()
page.run()
