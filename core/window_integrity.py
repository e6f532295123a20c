"""Window integrity after settlement: our resolution from recorded oracle ticks vs the venue's.

The venue's outcome and conditionId are what money settles on; our own resolution (the market's
own rule applied to md.oracle ticks, `core.settlement`) is the independent check. A disagreement,
a conditionId that changed since discovery, or a window our ticks cannot decide is a discrepancy
to store and alert on, never silently accepted. Pure: ticks and events are passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from core.enums import OracleStream, Outcome, Severity
from core.models import Alert, OracleTick, WindowEvent
from core.settlement import RuleKind, Settlement, SettlementRule, Verdict, resolve_window
from core.timestamps import to_ms

_STREAM = {
    (RuleKind.CHAINLINK_SPOT, None): OracleStream.CHAINLINK_SPOT,
    (RuleKind.CHAINLINK_TWAP, 30): OracleStream.CHAINLINK_TWAP_30,
    (RuleKind.CHAINLINK_TWAP, 60): OracleStream.CHAINLINK_TWAP_60,
}
_NAME_RE = re.compile(r"^(CHAINLINK_SPOT|CHAINLINK_TWAP|BINANCE_1H_CANDLE)(?:\((\d+)\))?$")


@dataclass(frozen=True)
class Discrepancy:
    kind: str  # outcome | condition_id | undecidable
    ours: str
    venue: str
    detail: str


def rule_from_name(name: str | None, asset: str) -> SettlementRule | None:
    """The rule a WindowEvent's `settlement_rule` names (`CHAINLINK_TWAP(60)`), or None."""
    match = _NAME_RE.match(name or "")
    if match is None:
        return None
    kind, seconds = RuleKind(match.group(1)), match.group(2)
    if kind is RuleKind.BINANCE_1H_CANDLE:
        return SettlementRule.binance_1h_candle(f"{asset}usdt")
    symbol = f"{asset}/usd"
    return (
        SettlementRule.chainlink_twap(symbol, int(seconds))
        if seconds
        else SettlementRule.chainlink_spot(symbol)
    )


class OracleHistory:
    """Exact Chainlink prints per (symbol, stream), by observation ms, for the last `keep_ms`."""

    def __init__(self, keep_ms: int = 3 * 3_600_000) -> None:
        self._keep_ms = keep_ms
        self._prints: dict[tuple[str, OracleStream], dict[int, Decimal]] = {}

    def add(self, tick: OracleTick) -> None:
        """Backfill points (source_id marked "~") never replace an exact print of the same second."""
        prints = self._prints.setdefault((tick.symbol, tick.stream), {})
        ms = to_ms(tick.source_ts)
        approximate = "~" in (tick.source_id or "")
        if approximate and ms in prints:
            return
        prints[ms] = tick.price
        if len(prints) % 512 == 0:
            horizon = max(prints) - self._keep_ms
            for old in [k for k in prints if k < horizon]:
                del prints[old]

    def prices(self, symbol: str, stream: OracleStream) -> dict[int, Decimal]:
        return self._prints.get((symbol, stream), {})


def our_settlement(window: WindowEvent, history: OracleHistory) -> Settlement | str:
    """Our resolution of a window from the ticks we hold, or why it cannot be computed."""
    rule = rule_from_name(window.settlement_rule, window.asset)
    if rule is None:
        return f"no known settlement rule in {window.settlement_rule!r}"
    stream = _STREAM.get((rule.kind, rule.twap_seconds))
    if stream is None:
        return f"{rule.name} is not resolved from md.oracle"
    return resolve_window(rule, window.start_ts, window.end_ts, history.prices(rule.symbol, stream))


def check_window(
    resolved: WindowEvent, discovered: WindowEvent | None, ours: Settlement | str
) -> list[Discrepancy]:
    """Discrepancies between the venue's resolution and what we discovered and computed."""
    found = []
    if discovered is not None and discovered.condition_id.lower() != resolved.condition_id.lower():
        found.append(
            Discrepancy(
                "condition_id", discovered.condition_id, resolved.condition_id, "changed since discovery"
            )
        )
    venue = resolved.venue_outcome.value if resolved.venue_outcome is not None else ""
    if isinstance(ours, str):
        found.append(Discrepancy("undecidable", "UNDECIDABLE", venue, ours))
    elif not ours.decided:
        found.append(Discrepancy("undecidable", "UNDECIDABLE", venue, ours.reason))
    else:
        mine = Outcome.UP if ours.verdict is Verdict.UP else Outcome.DOWN
        if resolved.venue_outcome is not None and mine is not resolved.venue_outcome:
            detail = f"{ours.rule.name}: strike {ours.strike}, close {ours.close}"
            found.append(Discrepancy("outcome", mine.value, venue, detail))
    return found


def discrepancy_alert(window_id: str, found: Discrepancy, at: datetime) -> Alert:
    """The alert for a discrepancy: an outcome or conditionId mismatch is critical (money settles on
    the venue's word and ours disagrees); a window we could not decide is a warning."""
    return Alert(
        alert_kind=f"window.{found.kind}",
        severity=Severity.WARNING if found.kind == "undecidable" else Severity.CRITICAL,
        message=f"{window_id}: ours {found.ours}, venue {found.venue} ({found.detail})",
        dedupe_key=f"window.{found.kind}:{window_id}",
        event_ts=at,
    )


def our_outcome_label(ours: Settlement | str) -> str:
    """What the windows table stores as our outcome: UP, DOWN or UNDECIDABLE."""
    return "UNDECIDABLE" if isinstance(ours, str) or not ours.decided else ours.verdict.name
