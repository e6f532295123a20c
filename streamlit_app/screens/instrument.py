"""Instrument view: one instrument's current window as the trading flow sees it (GET /api/live): the
oracle price against the strike, both books side by side, the books' and the oracle's last-tick
ages coloured like the feeds, and what each strategy sees now; then every instrument at a glance
and the feeds' health."""

from __future__ import annotations

from decimal import Decimal
from itertools import zip_longest
from typing import Any

import streamlit as st

from core.operator_view import feed_colour
from streamlit_app.session import api, config
from streamlit_app.views import DOT, attempt, table, when

__all__ = ["render"]


def _num(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _left(seconds: object) -> str:
    left = max(int(_num(seconds) or 0), 0)
    return f"{left // 60} min {left % 60:02d} s" if left >= 60 else f"{left} s"


def _age(age_ms: object) -> str:
    """A coloured dot and the age, by the feeds' rule (green < 2 s, yellow < 5 s, red beyond)."""
    age = _num(age_ms)
    text = "nothing yet" if age is None else f"{age / 1000:.1f} s ago"
    return f"{DOT[feed_colour(age)]} {text}"


def _ladder(book: dict[str, Any]) -> list[dict[str, Any]]:
    """Bids and asks side by side, best first."""
    return [
        {
            "bid size": "" if b is None else b["size"],
            "bid": "" if b is None else b["price"],
            "ask": "" if a is None else a["price"],
            "ask size": "" if a is None else a["size"],
        }
        for b, a in zip_longest(book["bids"], book["asks"])
    ]


def _signal_text(signal: dict[str, Any] | None) -> str:
    if signal is None:
        return "—"
    return f"BUY {signal['outcome']} @ {signal['limit_price']} (${signal['notional_usd']}) at {when(signal['event_ts'])}"


def _strategy_rows(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "strategy": s["strategy"],
            "now": "would signal: " + _signal_text(s["would_signal_now"])
            if s["would_signal_now"]
            else "no signal",
            "signals this window": s["signals_in_window"],
            "last signal": _signal_text(s["last_signal"]),
            "why": (s["last_signal"] or {}).get("reason", ""),
        }
        for s in view["strategies"]
    ]


def _overview(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "instrument": v["instrument"],
            "left": _left(v["seconds_left"]),
            "oracle": v["reference_price"],
            "strike": v["strike"],
            "distance (bps)": v["distance_bps"],
            "Up bid / ask": f"{v['up']['best_bid'] or '—'} / {v['up']['best_ask'] or '—'}",
            "Down bid / ask": f"{v['down']['best_bid'] or '—'} / {v['down']['best_ask'] or '—'}",
            "favoured": v["favoured"] or "—",
            "window": v["window_id"],
        }
        for v in rows
    ]


def _window(view: dict[str, Any]) -> None:
    st.markdown(
        f"**{view['window_id']}** · {when(view['start'])} → {when(view['end'])} UTC · "
        f"**{_left(view['seconds_left'])} left**"
    )
    price, strike, distance = view["reference_price"], view["strike"], _num(view["distance_bps"])
    cols = st.columns(4)
    cols[0].metric(
        "Oracle price",
        "—" if price is None else price,
        None if distance is None else f"{distance:+.2f} bps vs strike",
        delta_color="off" if distance is None or distance == 0 else "normal",
    )
    cols[1].metric("Strike", "not known yet" if strike is None else strike)
    cols[2].metric("Favoured", view["favoured"] or "neither")
    cols[3].metric("Time left", _left(view["seconds_left"]))
    st.markdown(f"Books: {_age(view['book_age_ms'])} &nbsp;&nbsp; Oracle: {_age(view['reference_age_ms'])}")
    up, down = st.columns(2)
    for col, side, name in ((up, view["up"], "Up"), (down, view["down"], "Down")):
        with col:
            st.markdown(f"#### {name} book")
            st.caption(
                f"bid {side['best_bid'] or '—'} · ask {side['best_ask'] or '—'} · mid {side['mid'] or '—'}"
            )
            table(_ladder(side), "No levels: the book's snapshot has not arrived.")


@st.fragment(run_every=config().refresh_s)
def _live() -> None:
    body = attempt("Live view", api().live)
    if body is None:
        return
    views = {v["instrument"]: v for v in body["instruments"]}
    if not views:
        st.info("No window is open right now (are `feeds` and the simulator running?).")
    else:
        chosen = st.selectbox("Instrument", sorted(views), key="instrument")
        _window(views[chosen or sorted(views)[0]])
        st.subheader("What each strategy sees")
        table(_strategy_rows(views[chosen or sorted(views)[0]]), "No strategy configured.")
        st.caption(
            "Each strategy asked now on this window's state, as the flow asks it; risk is not shown here."
        )
        st.subheader("Every instrument")
        table(_overview(list(views.values())), "No window is open right now.")
    st.caption(
        f"{body['events']} market events read, {body['malformed']} malformed, {body['unusable']} unusable; "
        f"latest at {when(body['latest_event_ts']) or '—'} UTC."
    )

    st.subheader("Feed health")
    health = attempt("Health", api().health)
    if health is not None:
        feeds = health["feeds"]
        if not feeds:
            st.info("No feed has reported yet.")
        else:
            cols = st.columns(min(len(feeds), 4))
            for i, feed in enumerate(feeds):
                cols[i % len(cols)].markdown(f"**{feed['feed']}** {_age(feed.get('last_tick_age_ms'))}")
        st.caption("Green under 2 s since the last tick, yellow under 5 s, red beyond.")


def render() -> None:
    st.title("Instrument view")
    _live()
