"""Acceptance: the replay-books scenario serves the real resolvedkit 15-minute books, an order fills exactly
as a hand walk of the recorded book says (fee included), and the archive of those books replays the same.

The client is py-clob-client-v2 unmodified; the expected fills are walked by hand here from the raw
fixture rows (not through the simulator's loader), the fee from POLYMARKET.md §6.7's formula.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import httpx
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from py_clob_client_v2.client import ClobClient
from py_clob_client_v2.clob_types import (
    AssetType,
    BalanceAllowanceParams,
    OrderArgsV2,
    OrderType,
    TradeParams,
)

from polywindow.sim_books import archive_books
from simulator.exchange import Exchange
from simulator.fixture_day import fixtures_dir
from simulator.markets import ManualClock
from simulator.recorded_books import RESOLVEDKIT, RecordedBooks, load_resolvedkit
from simulator.replay_books import build_replay_books
from simulator.scenario import ScenarioSettings
from simulator.scenarios import SCENARIOS, build_scenario
from tests.fixture_archive import write_fixture_archive
from tests.simulator.conftest import HARDHAT_KEY, ScenarioSim, fast_config, serve_scenario, wait_until

FOLDER = fixtures_dir() / RESOLVEDKIT
SLUG = "btc-updown-15m-1790589600"  # 6:00-6:15 AM ET, 10:00-10:15 UTC; Up won
AT = datetime(2026, 9, 28, 10, 5, 0, tzinfo=UTC)  # ten minutes before the close
RATE = Decimal("0.07")


@pytest.fixture(scope="module")
def books() -> RecordedBooks:
    return load_resolvedkit(FOLDER)


def recorded_asks(slug: str, at: datetime) -> list[tuple[Decimal, Decimal]]:
    """The UP side's asks in the fixture row in force at `at`, read straight from the parquet files."""
    markets = pq.read_table(FOLDER / "markets.parquet").to_pylist()
    market_id = next(m["market_id"] for m in markets if m["slug"] == slug)
    table = pq.read_table(
        FOLDER / "books.parquet", filters=[("market_id", "=", market_id), ("side", "=", "UP")]
    )
    table = table.filter(pc.less_equal(table["ts"], int(at.timestamp() * 1000)))
    row = table.take([pc.index(table["ts"], pc.max(table["ts"])).as_py()]).to_pylist()[0]
    return [
        (Decimal(str(round(p, 3))), Decimal(f"{s:.2f}"))
        for p, s in zip(row["ask_px"], row["ask_sz"], strict=True)
        if s > 0
    ]


def fee(shares: Decimal, price: Decimal) -> Decimal:
    return (shares * RATE * price * (1 - price)).quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP)


@pytest.fixture
def replay_at_ten_to_close(books: RecordedBooks) -> Iterator[ScenarioSim]:
    config = fast_config(initial_collateral_usd=Decimal(100_000))
    settings = ScenarioSettings(start=AT)
    scenario = build_replay_books(books, settings, seed=config.seed, clock=ManualClock(AT))
    with serve_scenario(scenario, config) as running:
        yield running


def gamma_market(url: str, slug: str) -> dict[str, Any]:
    found = httpx.get(f"{url}/gamma/markets", params={"slug": slug}).json()
    assert len(found) == 1
    market: dict[str, Any] = found[0]
    return market


def test_replay_books_is_a_scenario_name() -> None:
    assert "replay-books" in SCENARIOS


def test_a_large_order_fills_as_the_hand_walk_of_the_recorded_book(
    replay_at_ten_to_close: ScenarioSim,
) -> None:
    sim = replay_at_ten_to_close
    market = gamma_market(sim.url, SLUG)
    up = json.loads(market["clobTokenIds"])[0]
    assert not market["closed"]
    asks = recorded_asks(SLUG, AT)
    assert len(asks) >= 3
    client = ClobClient(host=sim.url, chain_id=137, key=HARDHAT_KEY)
    client.set_api_creds(client.create_or_derive_api_key())
    book = client.get_order_book(up)
    assert [(Decimal(a["price"]), Decimal(a["size"])) for a in reversed(book["asks"])] == asks
    assert Decimal(str(market["bestAsk"])) == asks[0][0], "Gamma quotes the recorded book"

    # Two whole levels and one share of the third, limit at the third level's price.
    size = asks[0][1] + asks[1][1] + 1
    limit = asks[2][0]
    walk = [(asks[0][0], asks[0][1]), (asks[1][0], asks[1][1]), (asks[2][0], Decimal(1))]
    cost = sum((p * s for p, s in walk), Decimal(0))
    fees = sum((fee(s, p) for p, s in walk), Decimal(0))
    before = client.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))

    order = client.create_order(OrderArgsV2(token_id=up, price=float(limit), size=float(size), side="BUY"))
    filled = client.post_order(order, OrderType.GTC)

    assert filled["status"] == "matched"
    assert Decimal(filled["makingAmount"]) == cost and Decimal(filled["takingAmount"]) == size
    trades = client.get_trades(TradeParams(market=market["conditionId"]))
    assert sorted((Decimal(t["price"]), Decimal(t["size"])) for t in trades) == sorted(walk)
    after = client.get_balance_allowance(BalanceAllowanceParams(asset_type=AssetType.COLLATERAL))
    spent = (Decimal(before["balance"]) - Decimal(after["balance"])) / 10**6
    assert spent.quantize(Decimal("0.01")) == (cost + fees).quantize(Decimal("0.01"))
    assert spent == cost + fees
    left = [(Decimal(a["price"]), Decimal(a["size"])) for a in reversed(client.get_order_book(up)["asks"])]
    assert left[0] == (asks[2][0], asks[2][1] - 1), "the book shows the two levels it took"
    assert left[1:] == asks[3:]


def test_windows_resolve_with_their_recorded_payouts(books: RecordedBooks) -> None:
    exchange = Exchange()
    first = books.first_at()
    assert first is not None
    clock = ManualClock(first)
    scenario = build_scenario("replay-books", seed=0, exchange=exchange, clock=clock)
    moment = first
    while moment < datetime(2026, 9, 28, 13, 48, tzinfo=UTC):
        moment += timedelta(seconds=30)
        scenario.advance_to(moment)
    payouts = {m["slug"]: m["payout_up"] for m in pq.read_table(FOLDER / "markets.parquet").to_pylist()}
    assert len(payouts) == 18
    for slug, payout_up in payouts.items():
        window = scenario.registry.get(slug)
        assert window is not None and window.verdict is not None, slug
        assert exchange.winner(window.condition_id) == (
            window.up_token_id if payout_up == 1.0 else window.down_token_id
        ), slug
    assert sum(1 for p in payouts.values() if p == 1.0) == 13


def test_the_archive_of_the_recorded_books_replays_the_same_book(
    tmp_path: Path, books: RecordedBooks
) -> None:
    start, end = datetime(2026, 9, 28, 10, 0, tzinfo=UTC), datetime(2026, 9, 28, 10, 15, tzinfo=UTC)
    write_fixture_archive(tmp_path, start, end)
    archived = archive_books(tmp_path, start, end + timedelta(minutes=5))
    assert [m.slug for m in archived.markets] == [SLUG]
    served = []
    for source in (archived, books):
        exchange = Exchange()
        build_replay_books(source, ScenarioSettings(start=AT), clock=ManualClock(AT)).bind(exchange)
        up = next(m.up_token_id for m in source.markets if m.slug == SLUG)
        body = exchange.book(up)
        served.append((up, body["bids"], body["asks"], body["tick_size"]))
    assert served[0] == served[1]
    assert served[0][2], "the archived book has asks at ten minutes to close"


def test_replay_books_runs_at_the_speed_asked(books: RecordedBooks) -> None:
    config = fast_config()
    scenario = build_replay_books(books, ScenarioSettings(start=AT), seed=7, speed=60.0)
    with serve_scenario(scenario, config) as sim:
        clock = httpx.get(f"{sim.url}/_sim/clock").json()
        assert clock["speed"] == 60.0
        wait_until(lambda: scenario.now >= AT + timedelta(seconds=30), 10, "30 s of scenario time")
