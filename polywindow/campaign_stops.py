"""`polywindow campaign stops`: the stop-loss variants A-E of seed 2.2, each over N windows of the
seeded swing scenario (`simulator.swing`), through the LIVE executor's own parts (the order manager and
the exit manager with the variant's `ExitConfig`) over py-clob-client-v2 against the simulator.

Per window: an entry at 0.50, then the swing path's books one by one, each read back from the venue
over HTTP and handed to the exit manager, until it exits or the path ends (then the window resolves).
Every trigger is judged by `core.campaign_stops`; the run is stored as kind `stops`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
from pydantic import SecretStr

from core.campaign_checks import Check
from core.campaign_stops import (
    MAX_EXIT_DELAY_MS,
    STOP_VARIANTS,
    StopVariant,
    TriggerEvidence,
    slippage_summary,
    trigger_checks,
    variant_checks,
)
from core.enums import OrderType, Outcome, Side, TradingMode
from core.execution_guards import ExecutionLimits
from core.intents import client_order_id_for, signal_id_for
from core.models import DecisionContext, Level, OrderIntent, Signal
from core.money import parse_decimal
from execution.exits import ExitManager
from polywindow.campaign_evidence import venue_trades
from polywindow.campaign_report import WindowChart
from polywindow.execution_wiring import build_manager, connect_venue
from simulator.markets import SimMarket
from simulator.swing import ENTRY_PRICE, SwingVenue, swing_bids
from sinks.postgres.campaign_store import write_run

__all__ = ["StopsResult", "run_stops"]

_SIZE = Decimal(6)
_LIMITS = ExecutionLimits(daily_drawdown_usd=Decimal(100_000))  # a campaign's stops are its point


@dataclass
class StopsResult:
    run_id: str
    checks: list[tuple[str, Check]] = field(default_factory=list)
    triggers: list[TriggerEvidence] = field(default_factory=list)
    windows: list[dict[str, Any]] = field(default_factory=list)
    charts: list[WindowChart] = field(default_factory=list)

    @property
    def failed(self) -> list[Check]:
        return [c for _v, c in self.checks if not c.passed]


def _entry(market: SimMarket, variant: str) -> OrderIntent:
    window_id = market.slug.lower()
    sid = signal_id_for(window_id, f"stops-{variant}", 0)
    at = datetime.now(UTC)
    signal = Signal(
        signal_id=sid,
        window_id=window_id,
        strategy=f"stops-{variant}",
        token_id=market.up_token_id,
        outcome=Outcome.UP,
        side=Side.BUY,
        limit_price=ENTRY_PRICE,
        notional_usd=ENTRY_PRICE * _SIZE,
        event_ts=at,
    )
    context = DecisionContext(
        up_asks=(Level(price=ENTRY_PRICE, size=Decimal(100)),),
        signal=signal,
        risk_result=f"APPROVED FAK {_SIZE} @ {ENTRY_PRICE}",
        controls_version=0,
        event_ts=at,
    )
    return OrderIntent(
        client_order_id=client_order_id_for(sid),
        signal_id=sid,
        window_id=window_id,
        strategy=f"stops-{variant}",
        token_id=market.up_token_id,
        side=Side.BUY,
        order_type=OrderType.FAK,
        limit_price=ENTRY_PRICE,
        size=_SIZE,
        mode=TradingMode.LIVE,
        event_ts=at,
        context=context,
    )


def _bids(book: dict[str, Any]) -> dict[Decimal, Decimal]:
    def field_of(level: Any, name: str) -> str:
        return str(level[name] if isinstance(level, dict) else getattr(level, name))

    levels = book["bids"] if isinstance(book, dict) else book.bids
    return {parse_decimal(field_of(b, "price")): parse_decimal(field_of(b, "size")) for b in levels}


def _trigger(
    conn: psycopg.Connection,
    venue: Any,
    variant: str,
    market: SimMarket,
    previous: Decimal | None,
    seen_ms: int,
    done_ms: int,
) -> TriggerEvidence:
    window_id = market.slug.lower()
    [(position_id, state, detail)] = conn.execute(
        "SELECT p.position_id, p.state, a.detail FROM positions p JOIN audit_log a ON a.subject = p.position_id"
        " AND a.action = 'exit' WHERE p.window_id = %s AND p.mode = 'LIVE'",
        (window_id,),
    ).fetchall()
    sell = conn.execute(
        "SELECT venue_order_id, status, size_matched FROM orders WHERE window_id = %s AND side = 'SELL' AND mode = 'LIVE'",
        (window_id,),
    ).fetchone()
    ours = conn.execute(
        "SELECT coalesce(sum(price * size - fee_usd), 0) FROM fills WHERE window_id = %s AND side = 'SELL' AND mode = 'LIVE'",
        (window_id,),
    ).fetchone()
    vid = str(sell[0]) if sell else ""
    theirs = sum(
        (
            t.price * t.size - t.fee_usd
            for t in venue_trades(venue, (market.up_token_id,))
            if t.venue_order_id == vid
        ),
        Decimal(0),
    )

    def dec(key: str) -> Decimal | None:
        value = detail.get(key)
        return None if value is None else parse_decimal(str(value))

    return TriggerEvidence(
        variant=variant,
        window_id=window_id,
        position_id=str(position_id),
        reason=str(detail["trigger"]),
        entry_price=ENTRY_PRICE,
        mark=dec("mark"),
        previous_mark=previous,
        threshold=dec("threshold"),
        trigger_ms=seen_ms,
        exit_order_ms=done_ms if sell else None,
        exit_status=str(sell[1]) if sell else None,
        exit_size_matched=Decimal(sell[2]) if sell else Decimal(0),
        position_size=_SIZE,
        position_state=str(state),
        intended_price=dec("intended_price"),
        actual_price=dec("actual_price"),
        our_sell_cash_usd=Decimal(ours[0]) if ours else Decimal(0),
        venue_sell_cash_usd=theirs,
    )


def _window(
    conn: psycopg.Connection, swing: SwingVenue, venue: Any, variant: StopVariant, index: int, seed: int
) -> tuple[TriggerEvidence | None, dict[str, Any], WindowChart]:
    """One window of one variant: entry, the swing path until an exit, else resolution at its end."""
    market = swing.new_market()
    manager = build_manager(TradingMode.LIVE, conn, venue=venue, limits=_LIMITS)
    entry = manager.execute(_entry(market, variant.name))
    exits = ExitManager(manager, variant.config)
    path = swing_bids(seed, index)
    previous: Decimal | None = None
    info: dict[str, Any] = {"window_id": market.slug.lower(), "instrument": "btc-5m", "variant": variant.name}
    info["evidence"] = {"entry": entry.status, "path": [str(b) for b in path]}
    title = f"{variant.name} ({variant.description}): {market.slug.lower()}"
    for step, bid in enumerate(path):
        swing.set_bid(market, bid)
        bids = _bids(venue.book(market.up_token_id))
        seen_ms = int(time.time() * 1000)
        results = exits.on_book(market.up_token_id, bids, datetime.now(UTC), market.end)
        done_ms = int(time.time() * 1000)
        if results:
            found = _trigger(conn, venue, variant.name, market, previous, seen_ms, done_ms)
            info["evidence"]["trigger"] = {"reason": found.reason, "mark": str(found.mark)}
            chart = WindowChart(
                info["window_id"], title, path, ENTRY_PRICE, found.threshold, step, found.actual_price
            )
            return found, info, chart
        previous = max(bids, default=None)
    winner = swing.resolve(market, up_won=path[-1] > ENTRY_PRICE)
    exits.on_resolved(market.slug.lower(), (market.up_token_id, market.down_token_id), winner, market.end)
    chart = WindowChart(info["window_id"], f"{title} (no trigger)", path, ENTRY_PRICE, None, None, None)
    return None, info, chart


def run_stops(
    conn: psycopg.Connection,
    *,
    run_id: str,
    windows: int,
    variants: tuple[str, ...],
    seed: int,
    echo: Callable[[str], None],
    store: psycopg.Connection | None = None,
    max_delay_ms: int = MAX_EXIT_DELAY_MS,
) -> StopsResult:
    """Every chosen variant over `windows` windows of the swing scenario, its trading rows in `conn`;
    the run stored in `store` (default `conn`), returned."""
    started = datetime.now(UTC)
    result = StopsResult(run_id)
    with SwingVenue(seed) as swing:
        for name in variants:
            variant = STOP_VARIANTS[name]
            venue = connect_venue(swing.url, SecretStr(_key(seed, name)))  # an account per variant
            fired: list[TriggerEvidence] = []
            for index in range(windows):
                trigger, info, chart = _window(conn, swing, venue, variant, index, seed)
                result.charts.append(chart)
                checks = trigger_checks(trigger, max_delay_ms) if trigger is not None else []
                if trigger is not None:
                    fired.append(trigger)
                result.checks += [(name, c) for c in checks]
                info["passed"] = all(c.passed for c in checks) and not (trigger and variant.control)
                result.windows.append(info)
            result.triggers += fired
            result.checks += [(name, c) for c in variant_checks(variant, windows, fired)]
            echo(f"variant {name} ({variant.description}): {windows} window(s), {len(fired)} trigger(s)")
    failed = result.failed
    write_run(
        store or conn,
        {
            "run_id": run_id,
            "kind": "stops",
            "params": {
                "windows": windows,
                "variants": list(variants),
                "seed": seed,
                "rows_in": conn.info.dbname,
            },
            "started_at": started,
            "finished_at": datetime.now(UTC),
            "windows": len(result.windows),
            "checks": len(result.checks),
            "failed": len(failed),
            "assertion_failures": 0,
            "passed": not failed,
            "summary": {"slippage": slippage_summary(result.triggers)},
        },
        result.windows,
        result.checks,
    )
    return result


def _key(seed: int, variant: str) -> str:
    """A deterministic private key per seed and variant (the simulator funds any account)."""
    import hashlib

    return "0x" + hashlib.sha256(f"polywindow-stops-{seed}-{variant}".encode()).hexdigest()
