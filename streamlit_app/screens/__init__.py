"""The dashboard's pages, in menu order (here, not in `pages/`, which Streamlit would list by itself).
A new page is one module here with a `render()` and one line in `PAGES`; Home.py builds the menu."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from streamlit_app.screens import campaigns, command_center, instrument, review, risk, trades

__all__ = ["PAGES", "PageSpec"]


@dataclass(frozen=True)
class PageSpec:
    render: Callable[[], None]
    title: str
    url_path: str
    default: bool = False


PAGES: tuple[PageSpec, ...] = (
    PageSpec(command_center.render, "Command center", "command-center", default=True),
    PageSpec(instrument.render, "Instrument", "instrument"),
    PageSpec(risk.render, "Risk", "risk"),
    PageSpec(trades.render, "Trade history", "trades"),
    PageSpec(campaigns.render, "Campaigns", "campaigns"),
    PageSpec(review.render, "Strategy review", "review"),
)
