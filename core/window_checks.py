"""Window checks in the trading flow: integrity after settlement and data completeness per window.

Each window keeps a `WindowChecks` next to its trading state, fed by the same routed events (so
nothing stamped before the window's start reaches it): the prints its settlement rule reads, the
seconds its Chainlink symbol printed in, and the conditionId it was discovered with. When the venue
resolves the window, `step` returns a `WindowVerdict` (our settlement and the discrepancies we can
tell on our own) before the state is dropped; once the oracle's prints have passed the window's end
(or, at the latest, at its resolution or expiry), a `CompletenessRow` for the oracle feed.

Whether a window whose prints do not decide it is UNDECIDABLE (a warning) or NOT_OBSERVED (no
alert) depends on when the flow's data of the rule's stream began, which no single window can see:
`Coverage`, keyed by stream (`coverage_key`), keeps the first print of each stream and `judge`s each
verdict of that stream into the final `IntegrityResult`. Pure: every time is an event time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from core.enums import WindowPhase
from core.models import Alert, OracleTick, WindowEvent
from core.routing import Expire, WindowInput
from core.settlement import CandlePrint, RuleKind, Settlement, SettlementRule, resolve_candle, resolve_window
from core.timestamps import to_ms
from core.window_integrity import (
    Discrepancy,
    check_window,
    discrepancy_alert,
    our_outcome_label,
    rule_from_name,
)
from core.window_state import CandleOpen, rule_stream

__all__ = [
    "ORACLE_FEED",
    "CheckOutput",
    "CompletenessRow",
    "Coverage",
    "IntegrityResult",
    "WindowChecks",
    "WindowVerdict",
    "coverage_key",
    "judge",
    "step",
    "tick_coverage_key",
]

ORACLE_FEED = "rtds"  # the feed_completeness name of md.oracle (RTDS), as the connector names it
_CANDLE_S = 3600


@dataclass(frozen=True, slots=True)
class CompletenessRow:
    """Share of a window's seconds in which `feed` printed (2 places), computed at event time `at`."""

    feed: str
    window_id: str
    start_ts: datetime
    end_ts: datetime
    percent: Decimal
    at: datetime


@dataclass(frozen=True, slots=True)
class WindowVerdict:
    """Our settlement of a resolved window, before the coverage of its rule's stream is known."""

    resolved: WindowEvent
    discovered: WindowEvent
    ours: Settlement | str
    coverage: str | None  # the stream (`coverage_key`) that tells NOT_OBSERVED from UNDECIDABLE


@dataclass(frozen=True, slots=True)
class IntegrityResult:
    """What the windows table, window_discrepancies and ops.alerts get for a resolved window."""

    window: WindowEvent
    outcome: str  # UP, DOWN, UNDECIDABLE or NOT_OBSERVED
    discrepancies: tuple[Discrepancy, ...]
    alerts: tuple[Alert, ...]
    at: datetime


CheckOutput = CompletenessRow | IntegrityResult


def coverage_key(rule: SettlementRule | None) -> str | None:
    """The stream a rule is decided from, as `Coverage` is keyed: `CHAINLINK_SPOT:btc/usd`,
    `candle:btcusdt`; None for a rule we do not resolve (its verdict needs no coverage)."""
    if rule is None:
        return None
    if rule.kind is RuleKind.BINANCE_1H_CANDLE:
        return f"candle:{rule.symbol}"
    stream = rule_stream(rule)
    return None if stream is None else f"{stream.value}:{rule.symbol}"


def tick_coverage_key(item: OracleTick | CandleOpen) -> str | None:
    """The `coverage_key` a print belongs to (None: a candle that decides no window)."""
    if isinstance(item, OracleTick):
        return f"{item.stream.value}:{item.symbol}"
    return f"candle:{item.symbol}" if item.interval_s == _CANDLE_S else None


@dataclass
class WindowChecks:
    """One window's integrity and completeness inputs; bounded by the window's own length."""

    discovered: WindowEvent
    window: WindowEvent = field(init=False)
    rule: SettlementRule | None = field(init=False)
    prints: dict[int, Decimal] = field(default_factory=dict)  # rule stream, by observation ms
    exact: set[int] = field(default_factory=set)  # ms of prints that were not backfill points
    candle: CandlePrint | None = None
    seconds: set[int] = field(default_factory=set)  # seconds in [start, end) with a Chainlink print
    completed: bool = False

    def __post_init__(self) -> None:
        self.window = self.discovered
        self.rule = rule_from_name(self.discovered.settlement_rule, self.discovered.asset)

    @property
    def chainlink_symbol(self) -> str:
        return f"{self.window.asset}/usd"

    def apply_window(self, event: WindowEvent) -> None:
        if event.phase is not WindowPhase.RESOLVED:
            self.window = event
            self.rule = rule_from_name(event.settlement_rule, event.asset) or self.rule

    def apply_oracle(self, tick: OracleTick) -> None:
        """A print of the window's symbol counts for completeness; one of its rule's stream at a
        second the rule reads is kept (a backfill point never replaces an exact print)."""
        if tick.symbol != self.chainlink_symbol:
            return
        start, end = self.window.start_ts, self.window.end_ts
        if start <= tick.source_ts < end:
            self.seconds.add(int(tick.source_ts.timestamp()))
        rule = self.rule
        if rule is None or rule.symbol != tick.symbol or rule_stream(rule) is not tick.stream:
            return
        if not start <= tick.source_ts <= end:
            return
        ms = to_ms(tick.source_ts)
        backfill = "~" in (tick.source_id or "")
        if backfill and ms in self.exact:
            return
        self.prints[ms] = tick.price
        if not backfill:
            self.exact.add(ms)

    def apply_candle(self, candle: CandleOpen) -> None:
        """The 1-hour candle opening at the window's start; a running update never replaces it
        once closed."""
        rule = self.rule
        if rule is None or rule.kind is not RuleKind.BINANCE_1H_CANDLE or candle.symbol != rule.symbol:
            return
        if candle.interval_s != _CANDLE_S or candle.open_ts != self.window.start_ts:
            return
        if self.candle is not None and self.candle.closed and not candle.closed:
            return
        self.candle = CandlePrint(to_ms(candle.open_ts), _CANDLE_S, candle.open, candle.close, candle.closed)

    def settle(self) -> Settlement | str:
        """Our resolution from the prints held, or why it cannot be computed."""
        rule, window = self.rule, self.window
        if rule is None:
            return f"no known settlement rule in {window.settlement_rule!r}"
        try:
            if rule.kind is RuleKind.BINANCE_1H_CANDLE:
                return resolve_candle(rule, window.start_ts, window.end_ts, self.candle)
            if rule_stream(rule) is None:
                return f"{rule.name} is not resolved from md.oracle"
            return resolve_window(rule, window.start_ts, window.end_ts, self.prints)
        except (
            ValueError
        ) as exc:  # a window the rule cannot apply to (unaligned, wrong length): said, not raised
            return f"{rule.name} cannot be applied to {window.window_id}: {exc}"

    def completeness(self, at: datetime) -> list[CompletenessRow]:
        """The oracle feed's row, once per window."""
        if self.completed:
            return []
        self.completed = True
        start, end = self.window.start_ts, self.window.end_ts
        first, last = int(start.timestamp()), int(end.timestamp())
        if last <= first:
            return []
        percent = (Decimal(len(self.seconds)) * 100 / Decimal(last - first)).quantize(Decimal("0.01"))
        return [CompletenessRow(ORACLE_FEED, self.window.window_id, start, end, percent, at)]


StepOutput = CompletenessRow | WindowVerdict


def step(state: WindowChecks | None, item: WindowInput) -> tuple[WindowChecks | None, list[StepOutput]]:
    """Apply one routed item. A resolution returns the verdict and drops the state; an `Expire` (the
    router gave up on the window) drops it with its completeness only. Completeness is due once a
    print of the window's own symbol is stamped at or after the end: that feed's prints arrive in
    order, while another feed's events (books past the end) may come before its last prints."""
    if state is None:
        if isinstance(item, WindowEvent) and item.phase is not WindowPhase.RESOLVED:
            return WindowChecks(item), []
        return None, []
    if isinstance(item, Expire):
        return None, list(state.completeness(item.at))
    if isinstance(item, WindowEvent) and item.phase is WindowPhase.RESOLVED:
        out: list[StepOutput] = list(state.completeness(item.source_ts))
        verdict = WindowVerdict(item, state.discovered, state.settle(), coverage_key(state.rule))
        return None, [*out, verdict]
    if isinstance(item, WindowEvent):
        state.apply_window(item)
    elif isinstance(item, OracleTick):
        state.apply_oracle(item)
        if item.symbol == state.chainlink_symbol and item.source_ts >= state.window.end_ts:
            return state, list(state.completeness(item.source_ts))
    elif isinstance(item, CandleOpen):
        state.apply_candle(item)
    return state, []


def judge(verdict: WindowVerdict, data_from_ms: int | None) -> IntegrityResult:
    """The final result of a verdict, knowing the first print the flow saw of the rule's stream
    (`data_from_ms`, None: none). A window that started before that print is not observed: no
    warning for what our data never covered; a hole after it stays UNDECIDABLE."""
    resolved = verdict.resolved
    start_ms = to_ms(resolved.start_ts)
    seen = verdict.coverage is None or (data_from_ms is not None and data_from_ms <= start_ms)
    found = check_window(resolved, verdict.discovered, verdict.ours, seen=seen)
    at = resolved.source_ts
    alerts = tuple(discrepancy_alert(resolved.window_id, d, at) for d in found)
    outcome = our_outcome_label(verdict.ours, seen=seen)
    return IntegrityResult(resolved, outcome, tuple(found), alerts, at)


@dataclass
class Coverage:
    """The first print (observation ms; a candle's open) the flow saw of one stream."""

    first_ms: int | None = None

    def tick(self, ms: int) -> None:
        if self.first_ms is None or ms < self.first_ms:
            self.first_ms = ms

    def judge(self, verdict: WindowVerdict) -> IntegrityResult:
        return judge(verdict, self.first_ms)
