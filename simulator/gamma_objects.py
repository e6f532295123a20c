"""Gamma market and event objects with the venue's field set and types (POLYMARKET.md §2.3).

A window's `base` object is what Gamma shows at listing (for a replayed window: the recorded object);
`market_json` overlays the lifecycle as of the registry's time: trading stops at `endDate`, then the
outcome, `umaResolutionStatus` and `closedTime` appear, then the event's `eventMetadata`. Arrays that
Gamma sends as JSON strings (`clobTokenIds`, `outcomes`, `outcomePrices`) stay JSON strings.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from core.settlement import RuleKind, Verdict

if TYPE_CHECKING:
    from simulator.windows import Window, WindowSettings

ICON = "https://polymarket-upload.s3.us-east-2.amazonaws.com/{}+fullsize.png"
SERIES_IDS = {("btc", 300): 10684, ("btc", 900): 10192, ("eth", 300): 10683, ("eth", 900): 10191}
_SERIES_LABEL = {300: "5m", 900: "15m", 3600: "hourly"}
_PAIR = {"btc": "BTC", "eth": "ETH", "sol": "SOL", "xrp": "XRP"}
_NAMES = {"btc": "Bitcoin", "eth": "Ethereum", "sol": "Solana", "xrp": "XRP"}
_TAG_IDS = {"up-or-down": "102127", "crypto": "21", "crypto-prices": "1312"}


def iso_z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_micro(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def closed_time_text(moment: datetime) -> str:
    """Gamma's `closedTime` is a PostgreSQL-style text, unlike every other time it sends."""
    return moment.strftime("%Y-%m-%d %H:%M:%S+00")


def rule_text(window: Window) -> tuple[str, str]:
    """(`resolutionSource`, `description`) naming the window's rule, worded like the venue's."""
    rule, name, pair = window.rule, _NAMES[window.asset], _PAIR[window.asset]
    head = (
        f'This market will resolve to "Up" if the {name} price at the end of the time range specified in '
        "the title is greater than or equal to the price at the beginning of that range. Otherwise, it "
        'will resolve to "Down".\n'
    )
    if rule.kind is RuleKind.BINANCE_1H_CANDLE:
        source = f"https://www.binance.com/en/trade/{pair}_USDT"
        text = (
            f'This market will resolve to "Up" if the close price for the Binance 1 hour candle for {pair}/USDT '
            "in the title is greater than or equal to the open price of that candle. Otherwise, it will resolve "
            f'to "Down".\nThe resolution source for this market is Binance, specifically the {pair}/USDT "Close" '
            f'and "Open" prices of the 1H candle, available at {source}.'
        )
        return source, text
    if rule.kind is RuleKind.CHAINLINK_TWAP:
        source = f"https://data.chain.link/streams/{window.asset}-usd-twap-{rule.twap_seconds}s-streams"
        text = head + (
            f"The start and end prices are the {rule.twap_seconds}-second time-weighted average price (TWAP) "
            f"of the Chainlink {pair}/USD data stream available at {source}."
        )
        return source, text
    source = f"https://data.chain.link/streams/{window.asset}-usd"
    text = head + (
        f"The resolution source for this market is information from Chainlink, specifically the {pair}/USD "
        f"data stream available at {source}.\nPlease note that this market is about the price according to "
        f"Chainlink data stream {pair}/USD, not according to other sources or spot markets."
    )
    return source, text


def synthetic_market_base(window: Window, settings: WindowSettings, rng: random.Random) -> dict[str, Any]:
    """The Gamma object of a freshly listed synthetic window (the fixture's 84 keys, same types)."""
    created = window.created_at
    source, description = rule_text(window)
    icon = ICON.format(_PAIR[window.asset])
    base: dict[str, Any] = {
        "id": window.market_id,
        "new": False,
        "cyom": False,
        "icon": icon,
        "slug": window.slug,
        "image": icon,
        "ready": False,
        "active": True,
        "closed": False,
        "funded": False,
        "spread": 0.01,
        "volume": "0",
        "bestAsk": 0.51,
        "bestBid": 0.49,
        "endDate": iso_z(window.end),
        "feeType": "crypto_fees_v2",
        "negRisk": False,
        "approved": True,
        "archived": False,
        "featured": False,
        "outcomes": json.dumps(["Up", "Down"]),
        "question": window.question,
        "createdAt": iso_micro(created),
        "deploying": False,
        "liquidity": "0",
        "startDate": iso_micro(created + timedelta(seconds=rng.uniform(30, 60))),
        "updatedAt": iso_micro(created + timedelta(seconds=rng.uniform(60, 90))),
        "volume1mo": 0.0,
        "volume1wk": 0.0,
        "volume1yr": 0.0,
        "volumeNum": 0.0,
        "endDateIso": window.end.strftime("%Y-%m-%d"),
        "questionID": "0x" + hashlib.sha256(f"question:{window.condition_id}".encode()).hexdigest(),
        "restricted": True,
        "rfqEnabled": False,
        "volume24hr": 0.0,
        "volumeClob": 0.0,
        "competitive": 0,
        "conditionId": window.condition_id,
        "description": description,
        "feeSchedule": {"rate": 0.07, "exponent": 1, "takerOnly": True, "rebateRate": 0.2},
        "feesEnabled": True,
        "clobTokenIds": json.dumps([window.up_token_id, window.down_token_id]),
        "liquidityAmm": 0,
        "liquidityNum": 0,
        "makerBaseFee": 1000,
        "negRiskOther": False,
        "orderMinSize": int(settings.min_order_size),
        "startDateIso": created.strftime("%Y-%m-%d"),
        "takerBaseFee": 1000,
        "liquidityClob": 0,
        "outcomePrices": json.dumps(["0.5", "0.5"]),
        "showGmpSeries": False,
        "volume1moClob": 0.0,
        "volume1wkClob": 0.0,
        "volume1yrClob": 0.0,
        "eventStartTime": iso_z(window.start),
        "lastTradePrice": 0.5,
        "rewardsMinSize": 50,
        "showGmpOutcome": False,
        "volume24hrClob": 0.0,
        "acceptingOrders": True,
        "enableOrderBook": True,
        "clearBookOnStart": False,
        "hasReviewedDates": True,
        "manualActivation": False,
        "resolutionSource": source,
        "rewardsMaxSpread": 4.5,
        "pendingDeployment": False,
        "groupItemThreshold": "0",
        "marketMakerAddress": "",
        "oneHourPriceChange": 0.0,
        "automaticallyActive": True,
        "requiresTranslation": False,
        "automaticallyResolved": True,
        "holdingRewardsEnabled": False,
        "orderPriceMinTickSize": float(settings.tick_size),
        "umaResolutionStatuses": "[]",
        "makerRebatesFeeShareBps": 10000,
        "acceptingOrdersTimestamp": iso_z(created + timedelta(seconds=5)),
        "pagerDutyNotificationEnabled": False,
    }
    if window.rule.kind is RuleKind.CHAINLINK_TWAP:
        lookback = window.rule.twap_seconds
        base["cryptoMarketConfig"] = {
            "id": f"{window.asset}-{_SERIES_LABEL[window.interval_s]}-twap-{lookback}",
            "twapEnabled": True,
            "twapLookbackSeconds": lookback,
        }
    return base


_RESOLUTION_KEYS = ("closedTime", "umaEndDate", "umaResolutionStatus")


def market_json(window: Window, now: datetime, settings: WindowSettings) -> dict[str, Any]:
    """The window's Gamma market object as of `now` (lifecycle overlaid on its base object)."""
    market = dict(window.base)
    ended = now >= window.end
    resolved = window.verdict is not None and window.resolved_at is not None and window.resolved_at <= now
    market["active"] = True
    market["acceptingOrders"] = not ended
    market["closed"] = resolved if settings.gamma_closed_at_resolution else ended
    bid, ask, last = window.quote
    if window.tick is not None:
        market["orderPriceMinTickSize"] = float(window.tick)
    if not ended:
        if bid is not None:
            market["bestBid"] = float(bid)
        if ask is not None:
            market["bestAsk"] = float(ask)
        if bid is not None and ask is not None:
            market["spread"] = float(ask - bid)
        if last is not None:
            market["lastTradePrice"] = float(last)
    if resolved and window.resolved_at is not None:
        market["outcomePrices"] = json.dumps(["1", "0"] if window.verdict is Verdict.UP else ["0", "1"])
        market["umaResolutionStatus"] = "resolved"
        market["closedTime"] = closed_time_text(window.resolved_at)
        market["umaEndDate"] = iso_z(window.resolved_at)
        market["updatedAt"] = iso_micro(window.resolved_at + timedelta(seconds=8))
    else:
        for key in _RESOLUTION_KEYS:
            market.pop(key, None)
        market["outcomePrices"] = _open_prices(bid, ask)
    return market


def _open_prices(bid: Decimal | None, ask: Decimal | None) -> str:
    """Gamma shows the mid as `outcomePrices` while a window trades."""
    if bid is None or ask is None:
        return json.dumps(["0.5", "0.5"])
    mid = (bid + ask) / 2
    return json.dumps([str(mid.normalize()), str((1 - mid).normalize())])


def _tags(window: Window) -> list[dict[str, Any]]:
    slugs = [
        "up-or-down",
        "crypto",
        "crypto-prices",
        _NAMES[window.asset].lower(),
        _SERIES_LABEL[window.interval_s],
    ]
    return [
        {
            "id": _TAG_IDS.get(
                slug, str(200_000 + int(hashlib.sha256(slug.encode()).hexdigest()[:6], 16) % 99_999)
            ),
            "label": slug.replace("-", " ").title(),
            "slug": slug,
        }
        for slug in slugs
    ]


def series_slug(window: Window) -> str:
    return f"{window.asset}-up-or-down-{_SERIES_LABEL[window.interval_s]}"


def event_json(window: Window, now: datetime, settings: WindowSettings) -> dict[str, Any]:
    """The window's Gamma event: one market per event for these windows (`[0].markets[0]`)."""
    market = market_json(window, now, settings)
    slug = series_slug(window)
    series_id = SERIES_IDS.get((window.asset, window.interval_s), 10_700 + sum(map(ord, slug)) % 300)
    event: dict[str, Any] = {
        "id": window.event_id,
        "ticker": window.slug,
        "slug": window.slug,
        "title": window.question,
        "description": market.get("description", ""),
        "resolutionSource": market.get("resolutionSource", ""),
        "startDate": market.get("startDate"),
        "creationDate": market.get("createdAt"),
        "endDate": market.get("endDate"),
        "startTime": market.get("eventStartTime"),
        "image": market.get("image"),
        "icon": market.get("icon"),
        "active": True,
        "closed": market["closed"],
        "archived": False,
        "new": False,
        "featured": False,
        "restricted": True,
        "liquidity": 0,
        "volume": float(market.get("volumeNum") or 0),
        "openInterest": 0,
        "createdAt": market.get("createdAt"),
        "updatedAt": market.get("updatedAt"),
        "competitive": 0,
        "volume24hr": float(market.get("volume24hr") or 0),
        "enableOrderBook": True,
        "liquidityClob": 0,
        "negRisk": False,
        "commentCount": 0,
        "seriesSlug": slug,
        "markets": [market],
        "series": [
            {
                "id": str(series_id),
                "ticker": slug,
                "slug": slug,
                "title": f"{_PAIR[window.asset]} Up or Down {_SERIES_LABEL[window.interval_s]}",
                "seriesType": "single",
                "recurrence": _SERIES_LABEL[window.interval_s],
                "active": True,
                "closed": False,
            }
        ],
        "tags": _tags(window),
    }
    metadata_at = window.end + timedelta(seconds=settings.metadata_delay_s)
    if window.resolved_at is not None and now >= max(metadata_at, window.resolved_at):
        meta: dict[str, Any] = {}
        if window.strike is not None:
            meta["priceToBeat"] = float(window.strike)
        if window.final_price is not None:
            meta["finalPrice"] = float(window.final_price)
        event["eventMetadata"] = meta
    return event
