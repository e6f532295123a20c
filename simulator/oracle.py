"""Oracle and spot price feeds for the simulator: recorded (replay) or seeded synthetic paths.

A feed point is one print on one RTDS topic/symbol, with its observation time and the scenario time
at which RTDS relays it. Sources hand points out in relay order up to a given time, so a scenario can
step time in any increments and see the same sequence. Prices are Decimal; the random draws that
shape a synthetic path are floats turned into Decimal returns, never money arithmetic.
"""

from __future__ import annotations

import bisect
import heapq
import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from simulator.fixture_day import RecordedTick

CHAINLINK = "crypto_prices_chainlink"
TWAP_30 = "crypto_prices_twap_thirty"
TWAP_60 = "crypto_prices_twap_sixty"
BINANCE = "crypto_prices"
TWAP_TOPICS = {TWAP_30: 30, TWAP_60: 60}
E18_QUANTUM = Decimal("1e-18")


@dataclass(frozen=True, slots=True, order=True)
class FeedPoint:
    """One print: `ts_ms` is the observation second, `publish_ms` when RTDS sends it."""

    publish_ms: int
    seq: int
    topic: str = field(compare=False)
    symbol: str = field(compare=False)
    ts_ms: int = field(compare=False)
    price: Decimal = field(compare=False)
    display: str | None = field(default=None, compare=False)

    @property
    def window_s(self) -> int | None:
        return TWAP_TOPICS.get(self.topic)

    @property
    def full_accuracy_value(self) -> str:
        """E18 integer string on Chainlink/TWAP topics, a plain 8-decimal string on Binance."""
        if self.topic == BINANCE:
            return f"{self.price:.8f}"
        return str(int((self.price / E18_QUANTUM).to_integral_value()))

    @property
    def value(self) -> float:
        """The display float RTDS sends next to the exact value (never computed with)."""
        return float(self.display if self.display is not None else self.price)


class FeedStore:
    """Every print received so far, per topic/symbol; a same-second repeat is a correction."""

    def __init__(self) -> None:
        self._prices: dict[tuple[str, str], dict[int, Decimal]] = {}
        self._keys: dict[tuple[str, str], list[int]] = {}

    def add(self, point: FeedPoint) -> None:
        key = (point.topic, point.symbol)
        prices = self._prices.setdefault(key, {})
        if point.ts_ms not in prices:
            keys = self._keys.setdefault(key, [])
            if not keys or point.ts_ms > keys[-1]:
                keys.append(point.ts_ms)
            else:
                bisect.insort(keys, point.ts_ms)
        prices[point.ts_ms] = point.price

    def prices(self, topic: str, symbol: str) -> dict[int, Decimal]:
        return self._prices.get((topic, symbol), {})

    def last_at_or_before(self, topic: str, symbol: str, ts_ms: int) -> tuple[int, Decimal] | None:
        keys = self._keys.get((topic, symbol), [])
        i = bisect.bisect_right(keys, ts_ms)
        return (keys[i - 1], self._prices[(topic, symbol)][keys[i - 1]]) if i else None

    def first_at_or_after(self, topic: str, symbol: str, ts_ms: int) -> tuple[int, Decimal] | None:
        keys = self._keys.get((topic, symbol), [])
        i = bisect.bisect_left(keys, ts_ms)
        return (keys[i], self._prices[(topic, symbol)][keys[i]]) if i < len(keys) else None


class ReplaySource:
    """The recorded Chainlink ticks, relayed at their recorded server send time."""

    def __init__(self, ticks: Iterable[RecordedTick], symbol: str = "btc/usd") -> None:
        self._points = sorted(
            FeedPoint(t.server_ts_ms, i, CHAINLINK, symbol, t.tick.ts_ms, t.tick.price, t.display_value)
            for i, t in enumerate(ticks)
        )
        self._next = 0

    def until(self, publish_ms: int) -> Iterator[FeedPoint]:
        points = self._points
        while self._next < len(points) and points[self._next].publish_ms <= publish_ms:
            self._next += 1
            yield points[self._next - 1]


@dataclass(frozen=True, slots=True)
class AssetModel:
    """Start price, per-second volatilities and price steps of one synthetic asset.

    `vol_per_s` drives the path: the per-second volatility that gives the real window-scale
    (300 s) moves. `quote_vol_per_s` is what the venue's books price with: the volatility of one
    second's print. On real prints the first exceeds the second (the oracle's moves trend over
    seconds), and real books price the favourite as the second says (§11c's medians at 60-120 s).
    BTC's are measured on the fixture day (`simulator.vol_calibration`, checked by a test); there
    are no recorded ETH/SOL/XRP prints, so theirs are BTC's times 1.22, 1.56 and 1.44, the ratios
    the model used before calibration (typical of those assets' realized volatility against BTC).
    """

    start_price: Decimal
    vol_per_s: float
    quote_vol_per_s: float
    binance_tick: Decimal


BTC_PATH_VOL_PER_S = 0.0000947  # fixture day 2026-06-08, 300 s log returns, per sqrt(s)
BTC_QUOTE_VOL_PER_S = 0.0000662  # fixture day 2026-06-08, 1 s log returns

ASSET_MODELS = {
    "btc": AssetModel(Decimal("64000"), BTC_PATH_VOL_PER_S, BTC_QUOTE_VOL_PER_S, Decimal("0.01")),
    "eth": AssetModel(
        Decimal("3200"), BTC_PATH_VOL_PER_S * 1.22, BTC_QUOTE_VOL_PER_S * 1.22, Decimal("0.01")
    ),
    "sol": AssetModel(Decimal("150"), BTC_PATH_VOL_PER_S * 1.56, BTC_QUOTE_VOL_PER_S * 1.56, Decimal("0.01")),
    "xrp": AssetModel(
        Decimal("0.6"), BTC_PATH_VOL_PER_S * 1.44, BTC_QUOTE_VOL_PER_S * 1.44, Decimal("0.0001")
    ),
}


@dataclass(frozen=True, slots=True)
class SyntheticFeedSettings:
    """Relay delays (ms) and the chance that a Chainlink second has no print (real streams have gaps)."""

    chainlink_delay_ms: tuple[int, int] = (700, 1500)
    twap_delay_ms: tuple[int, int] = (1200, 2800)
    binance_delay_ms: tuple[int, int] = (80, 250)
    gap_probability: float = 0.0


class _AssetPath:
    """One asset's seeded per-second path: Chainlink spot, its TWAPs and a Binance price near it."""

    def __init__(self, asset: str, seed: int, start_s: int, settings: SyntheticFeedSettings) -> None:
        self.asset, self.model, self.settings = asset, ASSET_MODELS[asset], settings
        self.rng = random.Random(f"{seed}:{asset}:oracle")
        self.second = start_s
        self.spot = self.model.start_price
        self.basis = 0.0
        self.recent: list[Decimal] = []
        self.relayed: dict[str, int] = {}  # per topic, the last publish time: relays are FIFO

    def _relay(self, topic: str, ts_ms: int, delay_ms: int) -> int:
        """When a print observed at `ts_ms` is sent: after its delay, never before the stream's
        previous print (the recorded venue relays each stream in order)."""
        at = max(ts_ms + delay_ms, self.relayed.get(topic, 0))
        self.relayed[topic] = at
        return at

    def step(self, seq: int) -> list[FeedPoint]:
        """The prints observed in the path's next second (Chainlink may skip one: a gap)."""
        rng, ts_ms = self.rng, self.second * 1000
        ret = Decimal(f"{rng.gauss(0.0, self.model.vol_per_s):.12f}")
        self.spot = (self.spot * (1 + ret)).quantize(Decimal("1e-12"))
        self.recent = [*self.recent[-59:], self.spot]
        self.basis = 0.98 * self.basis + rng.gauss(0.0, 0.00001)
        gap = rng.random() < self.settings.gap_probability
        delays = [
            rng.randint(*self.settings.chainlink_delay_ms),
            rng.randint(*self.settings.binance_delay_ms),
        ]
        delays += [rng.randint(*self.settings.twap_delay_ms) for _ in TWAP_TOPICS]
        self.second += 1
        symbol = f"{self.asset}/usd"
        binance = (self.spot * (1 + Decimal(f"{self.basis:.12f}"))).quantize(self.model.binance_tick)
        points = [
            FeedPoint(
                self._relay(BINANCE, ts_ms, delays[1]), seq, BINANCE, f"{self.asset}usdt", ts_ms, binance
            )
        ]
        if not gap:
            points.append(
                FeedPoint(self._relay(CHAINLINK, ts_ms, delays[0]), seq, CHAINLINK, symbol, ts_ms, self.spot)
            )
            for (topic, window_s), delay in zip(TWAP_TOPICS.items(), delays[2:], strict=True):
                span = self.recent[-window_s:]
                twap = (sum(span, Decimal(0)) / len(span)).quantize(E18_QUANTUM)
                points.append(FeedPoint(self._relay(topic, ts_ms, delay), seq, topic, symbol, ts_ms, twap))
        return points


class SyntheticSource:
    """Seeded paths for several assets; points come out in relay order whatever the step size."""

    def __init__(
        self, assets: Iterable[str], seed: int, start_s: int, settings: SyntheticFeedSettings | None = None
    ) -> None:
        conf = settings or SyntheticFeedSettings()
        self._paths = [_AssetPath(a, seed, start_s, conf) for a in assets]
        self._pending: list[FeedPoint] = []
        self._seq = 0

    def until(self, publish_ms: int) -> Iterator[FeedPoint]:
        last_second = publish_ms // 1000
        for path in self._paths:
            while path.second <= last_second:
                self._seq += 1
                for point in path.step(self._seq):
                    heapq.heappush(self._pending, point)
        while self._pending and self._pending[0].publish_ms <= publish_ms:
            yield heapq.heappop(self._pending)
