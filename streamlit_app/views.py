"""Small rendering helpers shared by the pages: a table that reads well when empty, a failure shown
as a sentence, and the coloured dot of a feed's age."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import psycopg
import streamlit as st

from core.operator_view import FeedColour
from streamlit_app.api_client import ApiError

__all__ = ["DOT", "attempt", "table", "when"]

T = TypeVar("T")

# Coloured text rather than emoji (":green[●]"; a caller may put a label after the dot inside the brackets): a machine without an emoji font (a server's Chromium) draws emoji as boxes.
DOT = {FeedColour.GREEN: ":green[●]", FeedColour.YELLOW: ":yellow[●]", FeedColour.RED: ":red[●]"}


def when(value: object) -> object:
    """A time as `YYYY-MM-DD HH:MM:SS` UTC (a datetime, or the ISO text the API sends); anything else as is."""
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T" and value[:4].isdigit():
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


def attempt(what: str, read: Callable[[], T]) -> T | None:
    """`read()`, or None after a warning naming what could not be read and why (no traceback)."""
    try:
        return read()
    except ApiError as exc:
        st.warning(f"{what}: {exc}")
    except psycopg.Error as exc:
        st.warning(f"{what}: the database did not answer ({type(exc).__name__})")
    return None


def table(rows: Sequence[dict[str, Any]] | None, empty: str, columns: Sequence[str] | None = None) -> None:
    """The rows as a table, or `empty` as a sentence when there are none (None: already warned)."""
    if rows is None:
        return
    if not rows:
        st.info(empty)
        return
    keys = list(columns) if columns else list(rows[0])
    shown = [{c: when(r.get(c)) for c in keys} for r in rows]
    st.dataframe(shown, hide_index=True, width="stretch")
