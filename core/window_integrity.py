"""Window integrity: our strike and resolution from recorded prints vs the venue's.

The venue's outcome, conditionId and `priceToBeat` are what money settles on; our own strike and
resolution (the market's own rule applied to md.oracle ticks, or to the exchange's 1-hour candle
on md.spot for hourly windows, `core.settlement`; per window in the trading flow,
`core.window_checks`) are the independent check. A disagreement, a
conditionId that changed since discovery, or a window our prints cannot decide is a discrepancy
to store and alert on, never silently accepted. Pure: ticks, candles and events are passed in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from core.enums import OracleStream, Outcome, Severity
from core.models import Alert, Candle, OracleTick, WindowEvent
from core.settlement import (
    CandlePrint,
    RuleKind,
    Settlement,
    SettlementRule,
    Verdict,
)
from core.timestamps import to_ms

_STREAM = {
    (RuleKind.CHAINLINK_SPOT, None): OracleStream.CHAINLINK_SPOT,
    (RuleKind.CHAINLINK_TWAP, 30): OracleStream.CHAINLINK_TWAP_30,
    (RuleKind.CHAINLINK_TWAP, 60): OracleStream.CHAINLINK_TWAP_60,
}
_NAME_RE = re.compile(r"^(CHAINLINK_SPOT|CHAINLINK_TWAP|BINANCE_1H_CANDLE)(?:\((\d+)\))?$")


@dataclass(frozen=True)
class Discrepancy:
    kind: str  # outcome | condition_id | undecidable | strike
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

    def covered_from(self, symbol: str, stream: OracleStream) -> int | None:
        """The observation ms of the oldest print held for the stream (None: none at all)."""
        prints = self._prints.get((symbol, stream))
        return min(prints) if prints else None


class CandleHistory:
    """Exchange candles per (symbol, interval, open ms), for the last `keep` of opening times.

    A running update never replaces a closed candle (frames and REST backfills arrive late)."""

    def __init__(self, keep: timedelta = timedelta(hours=6)) -> None:
        self._keep_ms = int(keep / timedelta(milliseconds=1))
        self._candles: dict[tuple[str, int, int], CandlePrint] = {}
        self._newest_ms = 0

    @property
    def size(self) -> int:
        return len(self._candles)

    def add(self, candle: Candle) -> None:
        open_ms = to_ms(candle.open_ts)
        key = (candle.symbol, candle.interval_s, open_ms)
        held = self._candles.get(key)
        if held is not None and held.closed and not candle.closed:
            return
        self._candles[key] = CandlePrint(open_ms, candle.interval_s, candle.open, candle.close, candle.closed)
        if open_ms > self._newest_ms:
            self._newest_ms = open_ms
            horizon = open_ms - self._keep_ms
            for old in [k for k in self._candles if k[2] < horizon]:
                del self._candles[old]

    def get(self, symbol: str, interval_s: int, open_ts: datetime) -> CandlePrint | None:
        return self._candles.get((symbol, interval_s, to_ms(open_ts)))

    def covered_from(self, symbol: str, interval_s: int) -> int | None:
        """The open ms of the oldest candle held for the symbol and interval (None: none at all)."""
        opens = [k[2] for k in self._candles if k[0] == symbol and k[1] == interval_s]
        return min(opens) if opens else None


StrikeKey = tuple[str, str, int]
"""Which print gives a window its strike: (stream or "candle", symbol, start ms)."""
_CANDLE = "candle"


def strike_key(window: WindowEvent) -> StrikeKey | None:
    """The print a window's strike comes from under its rule; None when no feed we read carries it."""
    rule = rule_from_name(window.settlement_rule, window.asset)
    if rule is None:
        return None
    if rule.kind is RuleKind.BINANCE_1H_CANDLE:
        return (_CANDLE, rule.symbol, to_ms(window.start_ts))
    stream = _STREAM.get((rule.kind, rule.twap_seconds))
    return None if stream is None else (stream.value, rule.symbol, to_ms(window.start_ts))


class StrikeWatch:
    """Windows waiting for their start print, so a print names the windows it gives a strike to.

    A window stays watched until `forget` (its resolution): a same-second correction of the start
    print names it again; `changed` tells whether a strike differs from the last one noted (every
    update of an hourly candle names its window, its open does not change)."""

    def __init__(self) -> None:
        self._by_key: dict[StrikeKey, dict[str, WindowEvent]] = {}
        self._key_of: dict[str, StrikeKey] = {}
        self._noted: dict[str, Decimal] = {}

    @property
    def watching(self) -> int:
        return len(self._key_of)

    def watch(self, window: WindowEvent) -> None:
        key = strike_key(window)
        if key is None:
            return
        self.forget(window.window_id)
        self._by_key.setdefault(key, {})[window.window_id] = window
        self._key_of[window.window_id] = key

    def changed(self, window_id: str, strike: Decimal) -> bool:
        """Note `strike` for a watched window; True when it is new or differs from the last noted."""
        if window_id not in self._key_of or self._noted.get(window_id) == strike:
            return False
        self._noted[window_id] = strike
        return True

    def forget(self, window_id: str) -> None:
        self._noted.pop(window_id, None)
        key = self._key_of.pop(window_id, None)
        if key is None:
            return
        waiting = self._by_key[key]
        waiting.pop(window_id, None)
        if not waiting:
            del self._by_key[key]

    def expire(self, now: datetime, grace: timedelta = timedelta(hours=1)) -> list[str]:
        """Forget windows that ended more than `grace` before `now` without a resolution seen here
        (a window dropped out of discovery); returns their ids."""
        stale = [
            window_id
            for windows in self._by_key.values()
            for window_id, window in windows.items()
            if window.end_ts + grace < now
        ]
        for window_id in stale:
            self.forget(window_id)
        return stale

    def due_oracle(self, tick: OracleTick) -> list[WindowEvent]:
        return list(self._by_key.get((tick.stream.value, tick.symbol, to_ms(tick.source_ts)), {}).values())

    def due_candle(self, candle: Candle) -> list[WindowEvent]:
        if candle.interval_s != 3600:
            return []
        return list(self._by_key.get((_CANDLE, candle.symbol, to_ms(candle.open_ts)), {}).values())


def our_strike(window: WindowEvent, history: OracleHistory, candles: CandleHistory) -> Decimal | None:
    """The rule's start print (the hourly candle's open), once we hold it."""
    key = strike_key(window)
    if key is None:
        return None
    source, symbol, start_ms = key
    if source == _CANDLE:
        candle = candles.get(symbol, 3600, window.start_ts)
        return None if candle is None else candle.open
    return history.prices(symbol, OracleStream(source)).get(start_ms)


_DOUBLE_EPSILON = Decimal(2) ** -52


def strikes_agree(ours: Decimal, venue: Decimal) -> bool:
    """Equal to the venue's precision: Gamma sends `priceToBeat` as a JSON number, so the venue's value
    went through a binary double and was printed with some digits. Ours (exact) agrees when it is
    within the larger of those two roundings: one unit of the printed number's last decimal place,
    or the double's relative precision (2^-52 of the value)."""
    printed = Decimal(1).scaleb(venue.as_tuple().exponent)  # type: ignore[arg-type]
    return abs(ours - venue) <= max(printed, abs(venue) * _DOUBLE_EPSILON)


def check_strike(ours: Decimal | None, venue: Decimal) -> Discrepancy | None:
    """A discrepancy when our strike and the venue's `priceToBeat` differ; None when they agree or
    we never had the start print (that window is reported undecidable at resolution)."""
    if ours is None or strikes_agree(ours, venue):
        return None
    return Discrepancy("strike", str(ours), str(venue), f"our start print {ours}, venue priceToBeat {venue}")


def check_window(
    resolved: WindowEvent, discovered: WindowEvent | None, ours: Settlement | str, *, seen: bool = True
) -> list[Discrepancy]:
    """Discrepancies between the venue's resolution and what we discovered and computed; a window
    we did not observe (`seen` False: it started before our data of its rule's stream began, see
    `core.window_checks.judge`) is not called undecidable."""
    found = []
    if discovered is not None and discovered.condition_id.lower() != resolved.condition_id.lower():
        found.append(
            Discrepancy(
                "condition_id", discovered.condition_id, resolved.condition_id, "changed since discovery"
            )
        )
    venue = resolved.venue_outcome.value if resolved.venue_outcome is not None else ""
    if isinstance(ours, str):
        if seen:
            found.append(Discrepancy("undecidable", "UNDECIDABLE", venue, ours))
    elif not ours.decided:
        if seen:
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


def our_outcome_label(ours: Settlement | str, *, seen: bool = True) -> str:
    """What the windows table stores as our outcome: UP, DOWN, UNDECIDABLE, or NOT_OBSERVED for an
    undecided window whose start came before our data began."""
    if isinstance(ours, str) or not ours.decided:
        return "UNDECIDABLE" if seen else "NOT_OBSERVED"
    return ours.verdict.name
