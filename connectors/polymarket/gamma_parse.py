"""A Gamma market object -> a WindowEvent (POLYMARKET.md §2.3, §3), or the reason it is unusable.

Gamma adds keys over time (84 in June 2026, 86 in July): only the keys read here matter, the rest
are ignored. `clobTokenIds`, `outcomes` and `outcomePrices` arrive as JSON strings; tokens are
mapped to Up/Down by their outcome label, never by position.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from connectors.polymarket.slugs import parse_slug
from core.enums import Outcome, WindowPhase
from core.models import WindowEvent
from core.money import parse_decimal
from core.settlement import RuleNotDerivable, derive_rule

__all__ = ["VenuePrices", "loads_exact", "parse_event_prices", "parse_gamma_market"]

_ONE = Decimal(1)


def _string_list(obj: Mapping[str, Any], key: str) -> list[str]:
    """A list of strings sent either as a JSON-string array (Gamma's habit) or as a real array."""
    value = obj.get(key)
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{key} is not a list of strings")
    return value


def _iso(obj: Mapping[str, Any], key: str) -> datetime | None:
    value = obj.get(key)
    if not isinstance(value, str) or "T" not in value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(UTC) if moment.tzinfo else None


def _flag(obj: Mapping[str, Any], key: str) -> bool:
    return obj.get(key) is True


def _venue_outcome(obj: Mapping[str, Any], labels: list[str]) -> Outcome | None:
    """Up or Down when `outcomePrices` shows a winner ("1"); None while unresolved."""
    if "outcomePrices" not in obj:
        return None
    prices = dict(zip(labels, (parse_decimal(p) for p in _string_list(obj, "outcomePrices")), strict=True))
    winners = [label for label, price in prices.items() if price == _ONE]
    if winners == ["Up"]:
        return Outcome.UP
    if winners == ["Down"]:
        return Outcome.DOWN
    return None


def _phase(obj: Mapping[str, Any], outcome: Outcome | None, end: datetime, recv_ts: datetime) -> WindowPhase:
    """RESOLVED once UMA says so (or a closed market shows a winner); CLOSED when Gamma says closed
    or the window's end has passed (trading stops at `endDate`, `closed` follows 16-52 s later);
    OPEN while tradeable (active, not closed, accepting orders); DISCOVERED before that."""
    closed = _flag(obj, "closed")
    if obj.get("umaResolutionStatus") == "resolved" or (closed and outcome is not None):
        return WindowPhase.RESOLVED
    if closed or recv_ts >= end:
        return WindowPhase.CLOSED
    if _flag(obj, "active") and _flag(obj, "acceptingOrders"):
        return WindowPhase.OPEN
    return WindowPhase.DISCOVERED


def _rule_name(obj: Mapping[str, Any]) -> str | None:
    """The settlement rule the market names; None when it names none we know (never trade it)."""
    try:
        return derive_rule(obj).name
    except RuleNotDerivable:
        return None


def parse_gamma_market(obj: Mapping[str, Any], recv_ts: datetime) -> WindowEvent | str:
    """One Gamma market object -> a WindowEvent, or a reason string when it cannot be used.

    Asset and interval come from the slug; start and end from `eventStartTime`/`endDate`, which
    must agree with the slug. `source_ts` is `updatedAt` (else `recv_ts`); `source_id` is
    f"gamma:{slug}:{phase}:{venue outcome}", so polling an unchanged market repeats the same id.
    The strike is not on the market object (it appears in the event's metadata after the window):
    it stays None here.
    """
    try:
        return _parse(obj, recv_ts)
    except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
        slug = obj.get("slug") if isinstance(obj, Mapping) else None
        detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)[:160]
        return f"gamma market {slug!r}: {type(exc).__name__}: {detail}"


def _parse(obj: Mapping[str, Any], recv_ts: datetime) -> WindowEvent | str:
    if not isinstance(obj, Mapping):
        return f"gamma market is not an object: {type(obj).__name__}"
    slug = obj.get("slug")
    if not isinstance(slug, str):
        return "gamma market without a slug"
    info = parse_slug(slug, recv_ts)
    if info is None:
        return f"gamma market {slug!r}: not an Up/Down window slug"
    labels = _string_list(obj, "outcomes")
    tokens = dict(zip(labels, _string_list(obj, "clobTokenIds"), strict=True))
    if set(tokens) != {"Up", "Down"}:
        return f"gamma market {slug!r}: outcomes {labels} are not Up/Down"
    start = _iso(obj, "eventStartTime") or info.start
    end = _iso(obj, "endDate") or info.end
    if (start, end) != (info.start, info.end):
        return (
            f"gamma market {slug!r}: eventStartTime/endDate {start.isoformat()}..{end.isoformat()} "
            f"disagree with the slug's {info.start.isoformat()}..{info.end.isoformat()}"
        )
    outcome = _venue_outcome(obj, labels)
    phase = _phase(obj, outcome, end, recv_ts)
    return WindowEvent(
        source_ts=_iso(obj, "updatedAt") or recv_ts,
        recv_ts=recv_ts,
        source_id=f"gamma:{slug}:{phase.value}:{outcome.value if outcome else ''}",
        phase=phase,
        window_id=slug,
        asset=info.asset,
        interval_s=info.interval_s,
        condition_id=obj.get("conditionId"),
        up_token_id=tokens["Up"],
        down_token_id=tokens["Down"],
        start_ts=start,
        end_ts=end,
        settlement_rule=_rule_name(obj),
        venue_outcome=outcome if phase is WindowPhase.RESOLVED else None,
    )


@dataclass(frozen=True, slots=True)
class VenuePrices:
    """The venue's own strike and final price of a window, from its Gamma event's `eventMetadata`."""

    window_id: str
    price_to_beat: Decimal | None
    final_price: Decimal | None


def loads_exact(text: str | bytes) -> Any:
    """JSON with every non-integer number as the Decimal of its text (Gamma sends prices as numbers)."""
    return json.loads(text, parse_float=Decimal)


def _price(meta: Mapping[str, Any], key: str) -> Decimal | None:
    if meta.get(key) is None:
        return None
    value = parse_decimal(meta[key])  # a float here means the body was not read with loads_exact
    if value < 0:
        raise ValueError(f"{key} {value} is negative")
    return value


def parse_event_prices(obj: Mapping[str, Any]) -> VenuePrices | str | None:
    """A Gamma event object (read with `loads_exact`) -> the venue's prices; None while the event
    has no `eventMetadata` price yet (it appears about a minute after the window); a reason string
    when it is unusable. `eventMetadata` may come as an object or as a JSON string."""
    slug = obj.get("slug") if isinstance(obj, Mapping) else None
    if not isinstance(slug, str):
        return "gamma event without a slug"
    meta = obj.get("eventMetadata")
    try:
        if isinstance(meta, str):
            meta = loads_exact(meta)
        if not isinstance(meta, Mapping):
            return None
        prices = VenuePrices(slug, _price(meta, "priceToBeat"), _price(meta, "finalPrice"))
    except (ValueError, TypeError, ArithmeticError) as exc:
        return f"gamma event {slug!r}: eventMetadata: {str(exc)[:160]}"
    if prices.price_to_beat is None and prices.final_price is None:
        return None
    return prices
