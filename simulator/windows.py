"""The window schedule: which Up/Down markets exist, when they list, close and resolve.

The venue lists 5-minute, 15-minute and hourly windows per asset about a day ahead, stops trading at
`endDate` and resolves 15-60 s later (POLYMARKET.md §2-3). Ids are derived from (seed, slug), and
every per-window random draw comes from its own seeded generator, so a schedule does not depend on
how finely the scenario steps time. The registry only keeps the calendar; the scenario decides
outcomes (core.settlement) and tells the registry through `resolve`.
"""

from __future__ import annotations

import hashlib
import heapq
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from core.settlement import SettlementRule, Verdict, derive_rule
from simulator.fixture_day import RecordedWindow

ET = ZoneInfo("America/New_York")
ASSET_NAMES = {"btc": "Bitcoin", "eth": "Ethereum", "sol": "Solana", "xrp": "XRP"}
INTERVAL_LABEL = {300: "5m", 900: "15m", 3600: "1h"}
TWAP_30_FROM = datetime(2026, 8, 7, tzinfo=UTC)
TWAP_60_5M_FROM = datetime(2026, 8, 14, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class WindowSettings:
    """What the schedule may vary; defaults follow the venue as observed (POLYMARKET.md §2-3)."""

    assets: tuple[str, ...] = ("btc", "eth", "sol", "xrp")
    intervals_s: tuple[int, ...] = (300, 900, 3600)
    horizon_s: int = 86_400
    resolve_delay_s: tuple[int, int] = (15, 60)
    metadata_delay_s: int = 60
    gamma_closed_at_resolution: bool = True
    tick_size: Decimal = Decimal("0.01")
    min_order_size: Decimal = Decimal("5")


class Stage(StrEnum):
    LISTED = "listed"
    CLOSED = "closed"
    RESOLVE_DUE = "resolve_due"


@dataclass(frozen=True, slots=True, order=True)
class WindowEvent:
    """A lifecycle step that became due; the scenario acts on it in time order."""

    at: datetime
    order: int
    stage: Stage = field(compare=False)
    slug: str = field(compare=False)


@dataclass(slots=True, eq=False)
class Window:
    """One window: immutable identity plus the resolution facts the scenario records."""

    slug: str
    asset: str
    interval_s: int
    start: datetime
    end: datetime
    condition_id: str
    up_token_id: str
    down_token_id: str
    market_id: str
    event_id: str
    question: str
    created_at: datetime
    resolve_at: datetime
    rule: SettlementRule
    base: dict[str, Any]
    recorded: bool = False
    verdict: Verdict | None = None
    strike: Decimal | None = None
    final_price: Decimal | None = None
    resolved_at: datetime | None = None
    quote: tuple[Decimal | None, Decimal | None, Decimal | None] = (None, None, None)
    tick: Decimal | None = None  # the CLOB's tick once the book has moved it (Gamma follows)

    @property
    def token_ids(self) -> tuple[str, str]:
        return (self.up_token_id, self.down_token_id)

    @property
    def winning_token(self) -> str | None:
        if self.verdict is Verdict.UP:
            return self.up_token_id
        if self.verdict is Verdict.DOWN:
            return self.down_token_id
        return None


def _digest(seed: int, slug: str, label: str) -> str:
    return hashlib.sha256(f"{seed}:{slug}:{label}".encode()).hexdigest()


def condition_id_for(seed: int, slug: str) -> str:
    return "0x" + _digest(seed, slug, "condition")


def token_id_for(seed: int, slug: str, outcome: str) -> str:
    """A decimal uint256 token id, as the CTF derives one, but from (seed, slug, outcome)."""
    return str(int(_digest(seed, slug, outcome), 16))


def _hour_label(moment: datetime) -> str:
    local = moment.astimezone(ET)
    hour = local.hour % 12 or 12
    return f"{hour}{'am' if local.hour < 12 else 'pm'}"


def slug_for(asset: str, interval_s: int, start: datetime) -> str:
    """Slugs as POLYMARKET.md §2.1: unix-start form for 5m/15m, ET long form for hourly."""
    if interval_s == 3600:
        local = start.astimezone(ET)
        name = ASSET_NAMES[asset].lower()
        month = local.strftime("%B").lower()
        return f"{name}-up-or-down-{month}-{local.day}-{local.year}-{_hour_label(start)}-et"
    return f"{asset}-updown-{INTERVAL_LABEL[interval_s]}-{int(start.timestamp())}"


def _clock(moment: datetime, minutes: bool) -> str:
    local = moment.astimezone(ET)
    hour = local.hour % 12 or 12
    suffix = "AM" if local.hour < 12 else "PM"
    return f"{hour}:{local.minute:02d}{suffix}" if minutes else f"{hour}{suffix}"


def question_for(asset: str, interval_s: int, start: datetime, end: datetime) -> str:
    """Titles as the venue writes them: `Bitcoin Up or Down - June 8, 4:15AM-4:20AM ET`."""
    local = start.astimezone(ET)
    day = f"{local.strftime('%B')} {local.day}"
    if interval_s == 3600:
        return f"{ASSET_NAMES[asset]} Up or Down - {day}, {_clock(start, False)} ET"
    return f"{ASSET_NAMES[asset]} Up or Down - {day}, {_clock(start, True)}-{_clock(end, True)} ET"


def rule_for(asset: str, interval_s: int, start: datetime) -> SettlementRule:
    """The rule the venue wrote into markets it created for that date (the simulator's own table)."""
    if interval_s == 3600:
        return SettlementRule.binance_1h_candle(f"{asset}usdt")
    symbol = f"{asset}/usd"
    if start < TWAP_30_FROM:
        return SettlementRule.chainlink_spot(symbol)
    if interval_s == 300 and start < TWAP_60_5M_FROM:
        return SettlementRule.chainlink_twap(symbol, 30)
    return SettlementRule.chainlink_twap(symbol, 60)


class WindowRegistry:
    """All windows known to the simulator, by slug, condition id and token id, plus their calendar."""

    def __init__(self, settings: WindowSettings | None = None, seed: int = 0) -> None:
        self.settings = settings or WindowSettings()
        self.seed = seed
        self.now: datetime | None = None
        self._by_slug: dict[str, Window] = {}
        self._by_condition: dict[str, Window] = {}
        self._by_token: dict[str, Window] = {}
        self._due: list[WindowEvent] = []
        self._order = 0
        self._scheduled_until: dict[tuple[str, int], datetime] = {}
        self._synthetic = False

    # --- lookup ----------------------------------------------------------------------------------

    def get(self, slug: str) -> Window | None:
        return self._by_slug.get(slug)

    def by_condition(self, condition_id: str) -> Window | None:
        return self._by_condition.get(condition_id)

    def by_token(self, token_id: str) -> Window | None:
        return self._by_token.get(token_id)

    def all(self) -> list[Window]:
        return list(self._by_slug.values())

    def listed(self) -> list[Window]:
        """Windows visible on Gamma at the registry's current time."""
        now = self.now
        return [w for w in self._by_slug.values() if now is not None and w.created_at <= now]

    def is_listed(self, window: Window) -> bool:
        return self.now is not None and window.created_at <= self.now

    # --- building --------------------------------------------------------------------------------

    def _push(self, at: datetime, stage: Stage, slug: str) -> None:
        self._order += 1
        heapq.heappush(self._due, WindowEvent(at, self._order, stage, slug))

    def add(self, window: Window) -> Window:
        if window.slug in self._by_slug:
            raise ValueError(f"duplicate window {window.slug}")
        self._by_slug[window.slug] = window
        self._by_condition[window.condition_id] = window
        for token in window.token_ids:
            self._by_token[token] = window
        self._push(window.created_at, Stage.LISTED, window.slug)
        self._push(window.end, Stage.CLOSED, window.slug)
        self._push(window.resolve_at, Stage.RESOLVE_DUE, window.slug)
        return window

    def enable_schedule(self) -> None:
        """Create windows on the venue's calendar (synthetic scenario) as time advances."""
        self._synthetic = True

    def _make(self, asset: str, interval_s: int, start: datetime) -> Window:
        from simulator.gamma_objects import synthetic_market_base

        end = start + timedelta(seconds=interval_s)
        slug = slug_for(asset, interval_s, start)
        rng = random.Random(f"{self.seed}:{slug}")
        created_at = start - timedelta(seconds=self.settings.horizon_s - rng.uniform(0, 120))
        lo, hi = self.settings.resolve_delay_s
        digest = _digest(self.seed, slug, "ids")
        window = Window(
            slug=slug,
            asset=asset,
            interval_s=interval_s,
            start=start,
            end=end,
            condition_id=condition_id_for(self.seed, slug),
            up_token_id=token_id_for(self.seed, slug, "Up"),
            down_token_id=token_id_for(self.seed, slug, "Down"),
            market_id=str(1_000_000 + int(digest[:12], 16) % 8_999_999),
            event_id=str(100_000 + int(digest[12:24], 16) % 899_999),
            question=question_for(asset, interval_s, start, end),
            created_at=created_at,
            resolve_at=end + timedelta(seconds=rng.randint(lo, hi)),
            rule=rule_for(asset, interval_s, start),
            base={},
        )
        window.base = synthetic_market_base(window, self.settings, rng)
        return window

    def _extend(self, now: datetime) -> None:
        """List every window whose listing time has come (about `horizon_s` before its start)."""
        if not self._synthetic:
            return
        horizon = timedelta(seconds=self.settings.horizon_s)
        for asset in self.settings.assets:
            for interval_s in self.settings.intervals_s:
                key = (asset, interval_s)
                step = timedelta(seconds=interval_s)
                nxt = self._scheduled_until.get(key)
                if nxt is None:
                    epoch = int(now.timestamp()) // interval_s * interval_s
                    nxt = datetime.fromtimestamp(epoch, tz=UTC)
                while nxt <= now + horizon:
                    # The repeated ET hour at the end of daylight time would repeat an hourly slug.
                    if slug_for(asset, interval_s, nxt) not in self._by_slug:
                        self.add(self._make(asset, interval_s, nxt))
                    nxt += step
                self._scheduled_until[key] = nxt

    # --- time ------------------------------------------------------------------------------------

    def next_due(self) -> datetime | None:
        return self._due[0].at if self._due else None

    def advance(self, now: datetime) -> list[WindowEvent]:
        """Move the registry's clock to `now`; return the lifecycle steps due by then, in time order."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        due: list[WindowEvent] = []
        while (event := self.pop_due(now)) is not None:
            due.append(event)
        self.now = now
        return due

    def pop_due(self, until: datetime) -> WindowEvent | None:
        """The next lifecycle step due by `until`, or None; lets a scenario interleave other work."""
        self._extend(until)
        if self._due and self._due[0].at <= until:
            return heapq.heappop(self._due)
        return None

    def resolve(
        self, slug: str, verdict: Verdict, at: datetime, strike: Decimal | None, final: Decimal | None
    ) -> Window:
        """Record the official outcome the scenario decided (never UNDECIDABLE: the venue always pays)."""
        if verdict is Verdict.UNDECIDABLE:
            raise ValueError(f"{slug}: an official outcome cannot be UNDECIDABLE")
        window = self._by_slug[slug]
        window.verdict, window.resolved_at = verdict, at
        window.strike, window.final_price = strike, final
        return window


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))


def recorded_window(recorded: RecordedWindow, settings: WindowSettings) -> Window:
    """A window replayed from a recorded Gamma object: its real ids, times and resolution delay.

    The rule comes from the object's own fields (core.settlement.derive_rule); the outcome does not
    come from the recording: the scenario decides it from the oracle path.
    """
    raw = recorded.raw
    created = _parse_iso(raw["createdAt"]) if raw.get("createdAt") else recorded.start - timedelta(days=1)
    closed = raw.get("closedTime") or raw.get("umaEndDate")
    resolve_at = (
        _parse_iso(closed) if closed else recorded.end + timedelta(seconds=settings.resolve_delay_s[0])
    )
    digest = _digest(0, recorded.slug, "event")
    return Window(
        slug=recorded.slug,
        asset=recorded.slug.split("-", 1)[0],
        interval_s=int((recorded.end - recorded.start).total_seconds()),
        start=recorded.start,
        end=recorded.end,
        condition_id=recorded.condition_id,
        up_token_id=recorded.up_token_id,
        down_token_id=recorded.down_token_id,
        market_id=str(raw.get("id", "")),
        event_id=str(100_000 + int(digest[:12], 16) % 899_999),
        question=str(raw.get("question", recorded.slug)),
        created_at=created,
        resolve_at=max(resolve_at, recorded.end),
        rule=derive_rule(raw),
        base=dict(raw),
        recorded=True,
    )
