"""Window rows in PostgreSQL: the phase order the database applies is core's, strikes and the venue's
prices are stored, and a discrepancy of kind 'strike' is accepted by the schema."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import product

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from core.enums import WindowPhase, later_phase
from core.models import WindowEvent
from sinks.postgres.migrate import migrate
from sinks.postgres.ops import OpsWriter

pytestmark = [pytest.mark.stack]

START = datetime(2026, 6, 8, 8, 15, tzinfo=UTC)


def window(phase: WindowPhase, n: int = 1) -> WindowEvent:
    return WindowEvent(
        source_ts=START,
        recv_ts=START,
        phase=phase,
        window_id=f"btc-updown-5m-{1780906500 + 300 * n}",
        asset="btc",
        interval_s=300,
        condition_id="0x" + f"{n:064x}",
        up_token_id=str(2 * n + 10),
        down_token_id=str(2 * n + 11),
        start_ts=START,
        end_ts=START + timedelta(minutes=5),
        settlement_rule="CHAINLINK_TWAP(60)",
    )


@pytest.fixture
def database(fresh_database: str) -> str:
    migrate(fresh_database)
    return fresh_database


@pytest.fixture
def ops(database: str) -> Iterator[OpsWriter]:
    with ConnectionPool(database, min_size=1, max_size=2, open=True) as pool:
        yield OpsWriter(pool)


def test_the_schema_check_lists_exactly_cores_phases(database: str) -> None:
    with psycopg.connect(database) as conn:
        (definition,) = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = 'windows'::regclass AND pg_get_constraintdef(oid) LIKE '%%phase%%'"
        ).fetchone() or ("",)
    assert set(re.findall(r"'([A-Z_]+)'", definition)) == {p.value for p in WindowPhase}


def test_an_upsert_keeps_the_later_phase_in_cores_order(ops: OpsWriter, database: str) -> None:
    pairs = list(product(WindowPhase, WindowPhase))
    for n, (held, new) in enumerate(pairs, start=1):
        ops.upsert_window(window(held, n))
        ops.upsert_window(window(new, n))
    with psycopg.connect(database) as conn:
        stored: dict[str, str] = dict(conn.execute("SELECT window_id, phase FROM windows").fetchall())
    for n, (held, new) in enumerate(pairs, start=1):
        assert stored[window(held, n).window_id] == later_phase(held, new).value, (held, new)


def test_our_strike_and_the_venues_prices_are_stored_and_a_strike_discrepancy_is_accepted(
    ops: OpsWriter, database: str
) -> None:
    w = window(WindowPhase.OPEN)
    ops.upsert_window(w)
    ops.upsert_window(w.model_copy(update={"strike": Decimal("100.25")}))
    ops.upsert_window(window(WindowPhase.RESOLVED))  # a later event without a strike blanks nothing
    ops.record_venue_prices(w, Decimal("100.3"), Decimal("99.5"), START + timedelta(minutes=6))
    ops.record_discrepancy(w.window_id, "strike", "100.25", "100.3", "differ", START)
    with psycopg.connect(database) as conn:
        row = conn.execute(
            "SELECT strike, venue_price_to_beat, venue_final_price, phase FROM windows WHERE window_id = %s",
            (w.window_id,),
        ).fetchone()
        kinds = [r[0] for r in conn.execute("SELECT kind FROM window_discrepancies").fetchall()]
    assert row == (Decimal("100.25"), Decimal("100.3"), Decimal("99.5"), "RESOLVED")
    assert kinds == ["strike"]


def test_the_venues_prices_of_a_window_not_yet_stored_are_kept_with_its_row(
    ops: OpsWriter, database: str
) -> None:
    """Writes may reach the database in any order (a window first seen resolved, its metadata in the
    same poll): the prices bring the window's row with them, and its later upsert blanks nothing."""
    w = window(WindowPhase.RESOLVED, n=77)
    ops.record_venue_prices(w, Decimal("100.3"), None, START + timedelta(minutes=6))
    ops.upsert_window(w)
    with psycopg.connect(database) as conn:
        row = conn.execute(
            "SELECT venue_price_to_beat, venue_final_price, phase FROM windows WHERE window_id = %s",
            (w.window_id,),
        ).fetchone()
    assert row == (Decimal("100.3"), None, "RESOLVED")


def test_a_not_observed_rerun_never_replaces_an_outcome_decided_before(ops: OpsWriter, database: str) -> None:
    """A flow restarted after our prints left the broker judges a window again as NOT_OBSERVED: the
    outcome it decided before stays; a decided outcome replaces anything."""
    decided, fresh = window(WindowPhase.RESOLVED, 7), window(WindowPhase.RESOLVED, 8)
    for w in (decided, fresh):
        ops.upsert_window(w)
    ops.record_our_outcome(decided.window_id, "UP", START)
    ops.record_our_outcome(decided.window_id, "NOT_OBSERVED", START + timedelta(hours=1))
    ops.record_our_outcome(fresh.window_id, "NOT_OBSERVED", START)
    ops.record_our_outcome(fresh.window_id, "DOWN", START + timedelta(hours=1))
    with psycopg.connect(database) as conn:
        rows: dict[str, str] = dict(conn.execute("SELECT window_id, our_outcome FROM windows").fetchall())
    assert rows == {decided.window_id: "UP", fresh.window_id: "DOWN"}


def test_a_rerun_that_saw_less_of_a_window_never_lowers_its_completeness(
    ops: OpsWriter, database: str
) -> None:
    """A flow restarted after part of a window's prints left the broker measures less of it: the
    coverage a run saw before stays; a run that saw more raises it."""
    w = window(WindowPhase.RESOLVED, 9)
    ops.record_completeness("rtds", w.window_id, w.start_ts, w.end_ts, Decimal("99.67"), START)
    ops.record_completeness(
        "rtds", w.window_id, w.start_ts, w.end_ts, Decimal("40.00"), START + timedelta(hours=1)
    )
    ops.record_completeness("polymarket.market", w.window_id, w.start_ts, w.end_ts, Decimal("50.00"), START)
    ops.record_completeness(
        "polymarket.market", w.window_id, w.start_ts, w.end_ts, Decimal("100.00"), START + timedelta(hours=1)
    )
    with psycopg.connect(database) as conn:
        rows = conn.execute(
            "SELECT feed, percent, computed_at FROM feed_completeness ORDER BY feed"
        ).fetchall()
    assert rows == [
        ("polymarket.market", Decimal("100.00"), START + timedelta(hours=1)),
        ("rtds", Decimal("99.67"), START),
    ]
