"""The venue's side of a campaign window: the account's trades on the window's tokens (py-clob-client-v2,
fees by the market's own schedule), its collateral balance, and the venue's resolution (Gamma, else the
row `feeds` wrote from Gamma). Joined with our rows into `core.campaign_checks.WindowEvidence`.
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import psycopg
from py_clob_client_v2.clob_types import TradeParams

from connectors.polymarket.clob import Venue
from connectors.polymarket.gamma_parse import parse_gamma_market
from core.campaign_checks import TradeEvidence, WindowEvidence
from core.fees import trade_fee
from execution.reconcile import our_legs
from sinks.postgres.campaign_store import OurWindow, our_window

__all__ = ["gamma_outcome", "venue_trades", "window_evidence"]


def venue_trades(venue: Venue, token_ids: tuple[str, ...]) -> tuple[TradeEvidence, ...]:
    """Our legs of every trade the venue reports for the account on `token_ids`, each with the fee the
    market's schedule charges it (the venue's fee, not the one we booked).

    A leg is filed under its own token, once: a trade that matched our order against a maker on the
    complementary token is listed by a query for either token (the simulator does so), and counting
    it under the token queried doubled it (a take-profit window's venue P&L came out twice ours)."""
    api_key = str(venue.client.creds.api_key)
    schedules = {token: venue.market_info(token)[1] for token in token_ids}
    legs: dict[tuple[str, str], TradeEvidence] = {}
    for token in token_ids:
        for trade in venue.client.get_trades(TradeParams(asset_id=token)):
            for leg in our_legs(trade, api_key):
                if leg.failed or leg.token_id not in schedules:
                    continue
                fee = trade_fee(schedules[leg.token_id], leg.size, leg.price, is_maker=leg.maker)
                legs[(leg.trade_id, leg.venue_order_id)] = TradeEvidence(
                    leg.trade_id, leg.venue_order_id, leg.token_id, leg.side.value, leg.price, leg.size, fee
                )
    return tuple(legs.values())


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
