"""The simulator's official outcome: core.settlement's rule, plus a fallback setting for missing ticks.

The venue pays every window, even one whose boundary tick is missing from the feed, and nobody
outside knows how it decides those (POLYMARKET.md §3 [?]). core.settlement says UNDECIDABLE there;
the simulator must still produce an outcome, so the fallback is an explicit, switchable setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from core.settlement import RuleKind, Settlement, SettlementRule, Verdict, resolve_window, verdict_for
from simulator.oracle import FeedStore


class BoundaryFallback(StrEnum):
    LAST_BEFORE = "last_before"
    FIRST_AFTER = "first_after"


@dataclass(frozen=True, slots=True)
class OfficialOutcome:
    """The outcome the simulated venue announces; `settlement` is what the pure rule said."""

    verdict: Verdict
    strike: Decimal | None
    close: Decimal | None
    settlement: Settlement
    fallback_used: bool


def _boundary_ms(rule: SettlementRule, start: datetime, end: datetime) -> tuple[int, int]:
    start_ms, end_ms = int(start.timestamp()) * 1000, int(end.timestamp()) * 1000
    return start_ms, end_ms - 1000 if rule.kind is RuleKind.BINANCE_1H_CANDLE else end_ms


def official_outcome(
    rule: SettlementRule, start: datetime, end: datetime, store: FeedStore, fallback: BoundaryFallback
) -> OfficialOutcome:
    """Decide a window as the venue would: the rule, and `fallback` only where the rule cannot decide.

    When the feed has no print at all on the fallback's side, the tie convention applies (Up).
    """
    topic = rule.rtds_topic
    if topic is None:
        raise ValueError(f"no feed for {rule.name}")
    settlement = resolve_window(rule, start, end, store.prices(topic, rule.symbol))
    if settlement.decided:
        return OfficialOutcome(settlement.verdict, settlement.strike, settlement.close, settlement, False)
    start_ms, close_ms = _boundary_ms(rule, start, end)
    pick = store.last_at_or_before if fallback is BoundaryFallback.LAST_BEFORE else store.first_at_or_after
    strike, close = settlement.strike, settlement.close
    if strike is None:
        found = pick(topic, rule.symbol, start_ms)
        strike = found[1] if found else None
    if close is None:
        found = pick(topic, rule.symbol, close_ms)
        close = found[1] if found else None
    verdict = verdict_for(strike, close) if strike is not None and close is not None else Verdict.UP
    return OfficialOutcome(verdict, strike, close, settlement, True)
