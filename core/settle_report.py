"""Resolve recorded windows from recorded oracle ticks and compare with the recorded outcomes
(what `polywindow settle` prints). The rule comes from each market's own fields;
a window whose rule reads another feed than the file holds, or whose boundary tick is missing, is
UNDECIDABLE with the reason, never guessed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from core.recorded import RecordedTick, RecordedWindow
from core.settlement import RuleNotDerivable, Verdict, dedupe_ticks, derive_rule, resolve_window

__all__ = ["SettleRow", "SettleSummary", "settle_recorded", "summarize"]


@dataclass(frozen=True, slots=True)
class SettleRow:
    slug: str
    rule: str | None
    strike: Decimal | None
    close: Decimal | None
    ours: Verdict
    recorded: Verdict | None
    reason: str = ""

    @property
    def agrees(self) -> bool | None:
        """None when there is nothing to compare (we could not decide, or nothing is recorded)."""
        if self.ours is Verdict.UNDECIDABLE or self.recorded is None:
            return None
        return self.ours is self.recorded


@dataclass(frozen=True, slots=True)
class SettleSummary:
    windows: int
    decided: int
    agreeing: int
    disagreeing: int
    undecidable: int


def settle_recorded(
    windows: Iterable[RecordedWindow],
    ticks: Iterable[RecordedTick],
    *,
    oracle_topic: str = "crypto_prices_chainlink",
    symbol: str = "btc/usd",
) -> list[SettleRow]:
    """One row per window, in the given order. `oracle_topic`/`symbol` name the feed the tick file
    holds (the fixture day's file is Chainlink spot BTC/USD); same-second corrections are deduped."""
    prices = dedupe_ticks(t.tick for t in ticks)
    rows: list[SettleRow] = []
    for window in windows:
        try:
            rule = derive_rule(window.raw)
        except RuleNotDerivable as exc:
            rows.append(_undecidable(window, None, str(exc)))
            continue
        if rule.rtds_topic != oracle_topic or rule.symbol != symbol:
            why = (
                f"rule {rule.name} reads {rule.rtds_topic} {rule.symbol}; the file is {oracle_topic} {symbol}"
            )
            rows.append(_undecidable(window, rule.name, why))
            continue
        result = resolve_window(rule, window.start, window.end, prices)
        rows.append(
            SettleRow(
                slug=window.slug,
                rule=rule.name,
                strike=result.strike,
                close=result.close,
                ours=result.verdict,
                recorded=window.outcome,
                reason=result.reason,
            )
        )
    return rows


def _undecidable(window: RecordedWindow, rule: str | None, reason: str) -> SettleRow:
    return SettleRow(window.slug, rule, None, None, Verdict.UNDECIDABLE, window.outcome, reason)


def summarize(rows: Iterable[SettleRow]) -> SettleSummary:
    listed = list(rows)
    return SettleSummary(
        windows=len(listed),
        decided=sum(r.ours is not Verdict.UNDECIDABLE for r in listed),
        agreeing=sum(r.agrees is True for r in listed),
        disagreeing=sum(r.agrees is False for r in listed),
        undecidable=sum(r.ours is Verdict.UNDECIDABLE for r in listed),
    )
