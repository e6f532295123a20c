"""System health, in the sidebar of every page: the verdict and its problems, feed ages coloured by
last-tick age, database pool use, clock offsets and the lock holder (from GET /health), and
completeness per feed per window (read-only SQL)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import streamlit as st

from core.operator_view import feed_colour
from streamlit_app.api_client import ApiClient
from streamlit_app.queries import Reader
from streamlit_app.views import DOT, attempt

__all__ = ["render_health"]


def _age_text(age_ms: Decimal | None) -> str:
    return "never ticked" if age_ms is None else f"{age_ms / 1000:.1f} s"


def _feeds(feeds: list[dict[str, Any]]) -> None:
    if not feeds:
        st.caption("none reported yet (is `feeds` running?)")
        return
    lines = []
    for feed in feeds:
        raw = feed.get("last_tick_age_ms")
        age = None if raw is None else Decimal(str(raw))
        lines.append(f"{DOT[feed_colour(age)].replace('●', '● ' + feed['feed'])} {_age_text(age)}")
    st.markdown("  \n".join(lines))


def render_health(api: ApiClient, reader: Reader) -> None:
    st.subheader("System health")
    body = attempt("Health", api.health)
    if body is None:
        return
    if body["healthy"]:
        st.success("Healthy")
    else:
        st.error("Unhealthy:\n" + "\n".join(f"- {p}" for p in body["problems"]))
    breaker = body.get("breaker")
    if breaker is not None:
        state = breaker["state"]
        st.markdown(f"Breaker: **{state}**" + (f" ({breaker['cause']})" if state == "OPEN" else ""))
    st.markdown("**Feeds** (last tick)")
    _feeds(body["feeds"])
    pool = body["pool"]
    st.markdown(f"**DB pool**: {pool['in_use']} of {pool['max_size']} in use, {pool['waiting']} waiting")
    offsets = body["clock_offsets_ms"]
    if offsets:
        st.markdown(
            "**Clock offset**: "
            + ", ".join(f"{src} {Decimal(str(ms)):+.0f} ms" for src, ms in offsets.items())
        )
    else:
        st.markdown("**Clock offset**: not measured yet")
    locks = body["locks"]
    if locks:
        st.markdown("**Lock**: " + ", ".join(f"{lk['name']} held by `{lk['holder']}`" for lk in locks))
    else:
        st.markdown("**Lock**: no trader holds it")
    rows = attempt("Completeness", reader.completeness)
    if rows is None:
        return
    st.markdown("**Completeness** (per feed, per window)")
    if not rows:
        st.caption("no window measured yet")
        return
    st.dataframe(
        [{"%": float(r["percent"]), "feed": r["feed"], "window": r["window_id"]} for r in rows[:12]],
        hide_index=True,
        width="stretch",
    )
