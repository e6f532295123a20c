"""Shared parts of the execution tests: intents on the test simulator's market, the executor built
as `polywindow execute` builds it, and the rows it wrote."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
from pydantic import SecretStr

from core.enums import OrderType, Outcome, Side, TradingMode
from core.intents import client_order_id_for, signal_id_for
from core.models import DecisionContext, Level, OrderIntent, Signal
from polywindow.execution_wiring import connect_venue
from tests.simulator.conftest import HARDHAT_KEY, RunningSim

D = Decimal


def intent_for(
    sim: RunningSim,
    ordinal: int = 0,
    *,
    price: str = "0.50",
    size: str = "6",
    asks: tuple[tuple[str, str], ...] = (("0.50", "100"),),
    mode: TradingMode = TradingMode.LIVE,
    window_id: str | None = None,
) -> OrderIntent:
    """A FAK BUY of the Up token; its context holds `asks` as the book seen at decision time."""
    window = window_id or sim.market.slug.lower()
    sid = signal_id_for(window, "canary", ordinal)
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    signal = Signal(
        signal_id=sid,
        window_id=window,
        strategy="canary",
        token_id=sim.market.up_token_id,
        outcome=Outcome.UP,
        side=Side.BUY,
        limit_price=D(price),
        notional_usd=D(price) * D(size),
        event_ts=at,
    )
    context = DecisionContext(
        up_asks=tuple(Level(price=D(p), size=D(s)) for p, s in asks),
        signal=signal,
        risk_result=f"APPROVED FAK {size} @ {price}",
        controls_version=1,
        event_ts=at,
    )
    return OrderIntent(
        client_order_id=client_order_id_for(sid),
        signal_id=sid,
        window_id=window,
        strategy="canary",
        token_id=sim.market.up_token_id,
        side=Side.BUY,
        order_type=OrderType.FAK,
        limit_price=D(price),
        size=D(size),
        mode=mode,
        event_ts=at,
        context=context,
    )


def venue_of(sim: RunningSim, key: str = HARDHAT_KEY) -> Any:
    return connect_venue(sim.url, SecretStr(key))


def rows(conn: psycopg.Connection, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    return conn.execute(sql, args).fetchall()


def order_row(conn: psycopg.Connection, coid: str) -> tuple[Any, ...]:
    found = rows(
        conn, "SELECT status, size_matched, venue_order_id FROM orders WHERE client_order_id = %s", coid
    )
    assert len(found) == 1, found
    return found[0]


def sim_orders_of(sim: RunningSim, address: str) -> list[Any]:
    """The simulator's own record: every order our account ever placed."""
    return list(
        sim.call(lambda: [o for o in sim.exchange._store.orders.values() if o.account == address.lower()])
    )


def record_window(conn: psycopg.Connection, sim: RunningSim) -> None:
    """The simulator's market as the feeds would have recorded it: reconciliation checks our
    tokens against the venue's markets through it."""
    m = sim.market
    conn.execute(
        "INSERT INTO windows (window_id, asset, interval_s, slug, condition_id, up_token_id, down_token_id,"
        " start_ts, end_ts) VALUES (%s, 'btc', 300, %s, %s, %s, %s, %s, %s)",
        (m.slug.lower(), m.slug.lower(), m.condition_id, m.up_token_id, m.down_token_id, m.start, m.end),
    )


def allow_instruments(conn: psycopg.Connection, *names: str) -> None:
    """The `allowed_instruments` control (the runtime assertions' scope; risk's too)."""
    conn.execute(
        "UPDATE runtime_controls SET value = %s::jsonb WHERE name = 'allowed_instruments'",
        (json.dumps(sorted(names)),),
    )


def skip_backlog(bootstrap: str, group: str, topic: str = "trade.intents") -> None:
    """Commit `group` at the end of `topic`: an executor started in it takes only the intents produced
    from now on, not those other tests of the session left on the shared topic."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=30).topics[topic].partitions
        ends = [
            TopicPartition(topic, p, consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1])
            for p in partitions
        ]
        consumer.commit(offsets=ends, asynchronous=False)
    finally:
        consumer.close()
