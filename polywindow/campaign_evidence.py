"""The venue's side of a campaign window: the account's trades on the window's tokens (py-clob-client-v2,
fees by the market's own schedule), its collateral balance, and the venue's resolution (Gamma, else the
row `feeds` wrote from Gamma). Joined with our rows into `core.campaign_checks.WindowEvidence`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import psycopg
from py_clob_client_v2.clob_types import TradeParams

from connectors.polymarket.clob import Venue
from connectors.polymarket.gamma_parse import parse_gamma_market
from core.campaign_checks import TradeEvidence, WindowEvidence
from core.fees import trade_fee
from core.money import parse_decimal
from sinks.postgres.campaign_store import OurWindow, our_window

__all__ = ["gamma_outcome", "venue_trades", "window_evidence"]


def venue_trades(venue: Venue, token_ids: tuple[str, ...]) -> tuple[TradeEvidence, ...]:
    """Our legs of every trade the venue reports for the account on `token_ids`, each with the fee the
    market's schedule charges it (the venue's fee, not the one we booked)."""
    api_key = str(venue.client.creds.api_key)
    found: list[TradeEvidence] = []
    for token in token_ids:
        _tick, schedule = venue.market_info(token)
        for trade in venue.client.get_trades(TradeParams(asset_id=token)):
            if str(trade.get("status", "")).upper().endswith("FAILED"):
                continue
            for leg in _our_legs(trade, api_key):
                fee = trade_fee(schedule, leg[4], leg[3], is_maker=leg[5])
                found.append(TradeEvidence(leg[0], leg[1], token, leg[2], leg[3], leg[4], fee))
    return tuple(found)


def _our_legs(trade: dict[str, Any], api_key: str) -> list[tuple[str, str, str, Decimal, Decimal, bool]]:
    """(trade id, order id, side, price, size, is_maker) of our side of one `/data/trades` item."""
    tid = str(trade["id"])
    if trade.get("trader_side") == "TAKER":
        return [
            (
                tid,
                str(trade["taker_order_id"]),
                str(trade["side"]).upper(),
                parse_decimal(str(trade["price"])),
                parse_decimal(str(trade["size"])),
                False,
            )
        ]
    return [
        (
            tid,
            str(leg["order_id"]),
            str(leg["side"]).upper(),
            parse_decimal(str(leg["price"])),
            parse_decimal(str(leg["matched_amount"])),
            True,
        )
        for leg in trade.get("maker_orders") or []
        if str(leg.get("owner")) == api_key
    ]


def gamma_outcome(gamma_url: str | None, slug: str) -> str | None:
    """UP or DOWN as Gamma's market object shows it; None when unresolved or Gamma does not know it."""
    if not gamma_url:
        return None
    try:
        reply = httpx.get(f"{gamma_url}/markets/slug/{slug}", timeout=5.0)
    except httpx.HTTPError:
        return None
    if reply.status_code != 200:
        return None
    event = parse_gamma_market(reply.json(), datetime.now(UTC))
    if isinstance(event, str) or event.venue_outcome is None:
        return None
    return str(event.venue_outcome.value)


def window_evidence(
    conn: psycopg.Connection, venue: Venue, window_id: str, gamma_url: str | None, mode: str = "LIVE"
) -> WindowEvidence:
    ours: OurWindow = our_window(conn, window_id, mode)
    tokens = tuple(t for t in (ours.up_token_id, ours.down_token_id) if t)
    trades = venue_trades(venue, tokens) if tokens else ()
    return WindowEvidence(
        window_id=window_id,
        instrument=ours.instrument,
        up_token_id=ours.up_token_id,
        down_token_id=ours.down_token_id,
        signal_ids=ours.signal_ids,
        orders=ours.orders,
        our_fills=ours.fills,
        venue_trades=trades,
        positions=ours.positions,
        our_outcome=ours.our_outcome,
        venue_outcome=gamma_outcome(gamma_url, window_id) or ours.venue_outcome,
        payout_usd=ours.payout_usd,
    )
