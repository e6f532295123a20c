"""Settlement of Up/Down windows: which rule a market names, and what that rule says.

The venue changed its settlement rule twice in 2026 (Chainlink spot, then Chainlink TWAP 30 s / 60 s)
and settles hourly windows on a Binance candle (POLYMARKET.md §3). A date table would silently go
wrong at the next change, so the rule is read from each market's own fields (`resolutionSource`,
`description`, `cryptoMarketConfig`, `slug`). Resolution never guesses: a missing boundary tick gives
UNDECIDABLE with a reason. Pure: no I/O, no clock; times and prices are arguments.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "CandlePrint",
    "PriceTick",
    "RuleKind",
    "RuleNotDerivable",
    "Settlement",
    "SettlementRule",
    "Verdict",
    "dedupe_ticks",
    "derive_rule",
    "resolve_candle",
    "resolve_window",
    "verdict_for",
]


class RuleKind(StrEnum):
    CHAINLINK_SPOT = "CHAINLINK_SPOT"
    CHAINLINK_TWAP = "CHAINLINK_TWAP"
    BINANCE_1H_CANDLE = "BINANCE_1H_CANDLE"


class Verdict(StrEnum):
    UP = "Up"
    DOWN = "Down"
    UNDECIDABLE = "UNDECIDABLE"


class RuleNotDerivable(ValueError):
    """The market's fields name no settlement rule we know; refuse rather than assume one."""


_TOPIC = {
    (RuleKind.CHAINLINK_SPOT, None): "crypto_prices_chainlink",
    (RuleKind.CHAINLINK_TWAP, 30): "crypto_prices_twap_thirty",
    (RuleKind.CHAINLINK_TWAP, 60): "crypto_prices_twap_sixty",
    (RuleKind.BINANCE_1H_CANDLE, None): "crypto_prices",
}


@dataclass(frozen=True, slots=True)
class SettlementRule:
    """A settlement rule as a value: the kind, the feed symbol it reads and the TWAP lookback.

    `symbol` is the RTDS symbol of the feed the rule reads: `btc/usd` for Chainlink streams,
    `btcusdt` for the Binance candle.
    """

    kind: RuleKind
    symbol: str
    twap_seconds: int | None = None

    def __post_init__(self) -> None:
        if (self.kind is RuleKind.CHAINLINK_TWAP) != (self.twap_seconds is not None):
            raise ValueError("twap_seconds is required for, and only for, CHAINLINK_TWAP")
        if self.twap_seconds is not None and self.twap_seconds <= 0:
            raise ValueError(f"twap_seconds must be positive: {self.twap_seconds}")

    @classmethod
    def chainlink_spot(cls, symbol: str) -> SettlementRule:
        return cls(RuleKind.CHAINLINK_SPOT, symbol)

    @classmethod
    def chainlink_twap(cls, symbol: str, seconds: int) -> SettlementRule:
        return cls(RuleKind.CHAINLINK_TWAP, symbol, seconds)

    @classmethod
    def binance_1h_candle(cls, symbol: str) -> SettlementRule:
        return cls(RuleKind.BINANCE_1H_CANDLE, symbol)

    @property
    def name(self) -> str:
        """`CHAINLINK_SPOT`, `CHAINLINK_TWAP(60)`, `BINANCE_1H_CANDLE`."""
        return f"{self.kind.value}({self.twap_seconds})" if self.twap_seconds else self.kind.value

    @property
    def rtds_topic(self) -> str | None:
        """The RTDS topic carrying the feed this rule reads (None for an unpublished TWAP lookback)."""
        return _TOPIC.get((self.kind, self.twap_seconds))


@dataclass(frozen=True, slots=True)
class PriceTick:
    """One oracle or exchange print: observation time (UTC ms), exact price, and receipt order.

    `recv_ms` orders same-second corrections: the later receipt replaces the earlier one.
    """

    ts_ms: int
    price: Decimal
    recv_ms: int = 0


@dataclass(frozen=True, slots=True)
class CandlePrint:
    """An exchange candle as settlement reads it: opening time (UTC ms), open, close, whether final."""

    open_ms: int
    interval_s: int
    open: Decimal
    close: Decimal
    closed: bool


@dataclass(frozen=True, slots=True)
class Settlement:
    """What a rule says about one window; `reason` explains UNDECIDABLE (empty otherwise)."""

    rule: SettlementRule
    verdict: Verdict
    strike: Decimal | None
    close: Decimal | None
    reason: str = ""

    @property
    def decided(self) -> bool:
        return self.verdict is not Verdict.UNDECIDABLE


_STREAM_RE = re.compile(r"data\.chain\.link/streams/([a-z0-9]+)-usd(?:-twap-(\d+)s)?", re.IGNORECASE)
_BINANCE_PAIR_RE = re.compile(r"\b([A-Z0-9]{2,10})[/_]?(USDT)\b")
_HOURLY_SLUG_RE = re.compile(r"^([a-z-]+)-up-or-down-[a-z]+-\d{1,2}-(?:\d{4}-)?\d{1,2}(?:am|pm)-et$")
_TWAP_TEXT_RE = re.compile(r"\b(\d+)[- ]?(?:s|sec|second)s?\b.{0,40}?(?:TWAP|time-weighted)", re.IGNORECASE)


def _crypto_config(market: Mapping[str, object]) -> Mapping[str, object] | None:
    raw = market.get("cryptoMarketConfig")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    return raw if isinstance(raw, Mapping) else None


def _text(market: Mapping[str, object], key: str) -> str:
    value = market.get(key)
    return value if isinstance(value, str) else ""


def derive_rule(market: Mapping[str, object]) -> SettlementRule:
    """The rule a Gamma market object names, from its own fields (camelCase, as Gamma sends them).

    Order of evidence: an enabled TWAP in `cryptoMarketConfig`; a Binance source or candle text;
    the Chainlink stream named in `resolutionSource` (a `-twap-Ns` suffix means TWAP); a TWAP or
    Chainlink stream named in `description`. Raises RuleNotDerivable when nothing names a rule.
    """
    source = _text(market, "resolutionSource")
    description = _text(market, "description")
    slug = _text(market, "slug")
    stream = _STREAM_RE.search(source) or _STREAM_RE.search(description)
    chainlink_symbol = f"{stream.group(1).lower()}/usd" if stream else None

    config = _crypto_config(market)
    if config is not None and config.get("twapEnabled") is True:
        lookback = config.get("twapLookbackSeconds")
        if not isinstance(lookback, int) or isinstance(lookback, bool):
            raise RuleNotDerivable(f"{slug}: twapEnabled without an integer twapLookbackSeconds")
        if chainlink_symbol is None:
            raise RuleNotDerivable(f"{slug}: TWAP market names no Chainlink stream")
        return SettlementRule.chainlink_twap(chainlink_symbol, lookback)

    if "binance" in source.lower() or ("binance" in description.lower() and "candle" in description.lower()):
        pair = _BINANCE_PAIR_RE.search(source.upper()) or _BINANCE_PAIR_RE.search(description)
        if pair is None:
            raise RuleNotDerivable(f"{slug}: Binance rule without a */USDT pair")
        if not (_HOURLY_SLUG_RE.match(slug) or re.search(r"\b1[- ]?(?:hour|h)\b", description, re.I)):
            raise RuleNotDerivable(f"{slug}: Binance rule for a window that is not a 1-hour candle")
        return SettlementRule.binance_1h_candle(f"{pair.group(1).lower()}usdt")

    if stream is not None and chainlink_symbol is not None:
        if stream.group(2):
            return SettlementRule.chainlink_twap(chainlink_symbol, int(stream.group(2)))
        twap_text = _TWAP_TEXT_RE.search(description)
        if twap_text:
            return SettlementRule.chainlink_twap(chainlink_symbol, int(twap_text.group(1)))
        return SettlementRule.chainlink_spot(chainlink_symbol)
    raise RuleNotDerivable(f"{slug or '<no slug>'}: no settlement rule in resolutionSource/description")


def dedupe_ticks(ticks: Iterable[PriceTick]) -> dict[int, Decimal]:
    """Second-aligned prices by observation ms; a same-second duplicate is a correction.

    The later receipt (`recv_ms`) wins; on equal `recv_ms` the later one in the input wins.
    """
    best: dict[int, tuple[int, Decimal]] = {}
    for tick in ticks:
        held = best.get(tick.ts_ms)
        if held is None or tick.recv_ms >= held[0]:
            best[tick.ts_ms] = (tick.recv_ms, tick.price)
    return {ts: price for ts, (_, price) in best.items()}


def verdict_for(strike: Decimal, close: Decimal) -> Verdict:
    """Up iff close >= strike: a tie resolves Up (POLYMARKET.md §3)."""
    return Verdict.UP if close >= strike else Verdict.DOWN


def _epoch_ms(moment: datetime, label: str) -> int:
    if moment.tzinfo is None or moment.utcoffset() != timedelta(0):
        raise ValueError(f"{label} must be a UTC-aware datetime: {moment!r}")
    if moment.microsecond:
        raise ValueError(f"{label} must be second-aligned: {moment.isoformat()}")
    return int(moment.timestamp()) * 1000


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve_window(
    rule: SettlementRule, start: datetime, end: datetime, prices: Mapping[int, Decimal]
) -> Settlement:
    """Apply `rule` to a window from its feed's deduplicated prices (ms -> price, see dedupe_ticks).

    Chainlink spot and TWAP: strike = print at the start second, close = print at the end second
    (for TWAP, `prices` are the TWAP stream's). Binance 1-hour candle: open = print at the start
    second, close = print at the candle's last second (end - 1 s). A missing print is UNDECIDABLE.
    """
    start_ms = _epoch_ms(start, "start")
    end_ms = _epoch_ms(end, "end")
    if end_ms <= start_ms:
        raise ValueError(f"window ends before it starts: {start.isoformat()} .. {end.isoformat()}")
    close_ms = end_ms
    if rule.kind is RuleKind.BINANCE_1H_CANDLE:
        if end_ms - start_ms != 3_600_000:
            raise ValueError(f"{rule.name} needs a 1-hour window, got {(end_ms - start_ms) // 1000} s")
        close_ms = end_ms - 1000
    strike = prices.get(start_ms)
    close = prices.get(close_ms)
    missing = [
        f"no {rule.symbol} {label} print at {_iso(ms)}"
        for label, ms, value in (("start", start_ms, strike), ("close", close_ms, close))
        if value is None
    ]
    if strike is None or close is None:
        return Settlement(rule, Verdict.UNDECIDABLE, strike, close, "; ".join(missing))
    return Settlement(rule, verdict_for(strike, close), strike, close)


def resolve_candle(
    rule: SettlementRule, start: datetime, end: datetime, candle: CandlePrint | None
) -> Settlement:
    """BINANCE_1H_CANDLE from the exchange's own 1-hour candle of the window's hour: strike = its
    open (known from the first update of the hour), Up iff close >= open once the candle is closed.
    A missing candle, another hour's, or one not closed yet is UNDECIDABLE (the strike is still
    given when the candle is the right one)."""
    if rule.kind is not RuleKind.BINANCE_1H_CANDLE:
        raise ValueError(f"{rule.name} is not decided by a candle")
    start_ms = _epoch_ms(start, "start")
    if _epoch_ms(end, "end") - start_ms != 3_600_000:
        raise ValueError(f"{rule.name} needs a 1-hour window, got {start.isoformat()} .. {end.isoformat()}")
    if candle is None or candle.open_ms != start_ms or candle.interval_s != 3600:
        return Settlement(
            rule, Verdict.UNDECIDABLE, None, None, f"no {rule.symbol} 1h candle opening at {_iso(start_ms)}"
        )
    if not candle.closed:
        reason = f"{rule.symbol} 1h candle opening at {_iso(start_ms)} is not closed"
        return Settlement(rule, Verdict.UNDECIDABLE, candle.open, None, reason)
    return Settlement(rule, verdict_for(candle.open, candle.close), candle.open, candle.close)
