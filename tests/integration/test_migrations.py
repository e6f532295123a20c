"""The schema: migrations apply once, and the database itself refuses what must never happen."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import errors

from sinks.postgres.migrate import discover, migrate

NOW = datetime(2026, 6, 8, 8, 15, tzinfo=UTC)
VENUE_ID = "0x" + "ab" * 32


def test_migrations_apply_to_a_fresh_database_then_are_a_no_op(fresh_database: str) -> None:
    first = migrate(fresh_database)
    assert first == [m.name for m in discover()]
    assert migrate(fresh_database) == []
    with psycopg.connect(fresh_database) as conn:
        versions = [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == [m.version for m in discover()]


@pytest.fixture
def db(fresh_database: str):
    migrate(fresh_database)
    with psycopg.connect(fresh_database, autocommit=True) as conn:
        yield conn


def _insert_order(
    conn: psycopg.Connection, venue_order_id: str | None, client_order_id: str = "co-00000001"
) -> None:
    conn.execute(
        "INSERT INTO orders (client_order_id, venue_order_id, mode, window_id, token_id, side, order_type,"
        " price, size, status, created_at, updated_at)"
        " VALUES (%s, %s, 'LIVE', 'btc-updown-5m-1780906500', '123', 'BUY', 'GTC', 0.57, 10, 'UNKNOWN', %s, %s)",
        (client_order_id, venue_order_id, NOW, NOW),
    )


def test_an_order_without_venue_order_id_is_refused(db: psycopg.Connection) -> None:
    with pytest.raises(errors.NotNullViolation):
        _insert_order(db, None)
    _insert_order(db, VENUE_ID)  # the same order with its id is accepted, as UNKNOWN
    with pytest.raises(errors.UniqueViolation):
        _insert_order(db, VENUE_ID)


def test_audit_log_refuses_update_delete_and_truncate(db: psycopg.Connection) -> None:
    db.execute("INSERT INTO audit_log (actor, action, subject) VALUES ('operator', 'kill_switch', 'PAUSE')")
    for statement in (
        "UPDATE audit_log SET action = 'forged'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(errors.InsufficientPrivilege, match="append-only"):
            db.execute(statement)
    assert db.execute("SELECT action FROM audit_log").fetchall() == [("kill_switch",)]


def test_runtime_controls_start_safe_and_refuse_bad_values(db: psycopg.Connection) -> None:
    rows: dict[str, str] = dict(db.execute("SELECT name, value #>> '{}' FROM runtime_controls").fetchall())
    assert rows["kill_switch"] == "PAUSE"
    assert rows["trading_mode"] == "DRY_RUN"
    assert len(rows) == 6
    with pytest.raises(errors.CheckViolation):
        db.execute("UPDATE runtime_controls SET value = '\"GO\"' WHERE name = 'kill_switch'")
    with pytest.raises(errors.CheckViolation):
        db.execute("UPDATE runtime_controls SET value = '\"-5\"' WHERE name = 'max_position_usd'")
    with pytest.raises(errors.CheckViolation):
        db.execute(
            "INSERT INTO runtime_controls (name, value_type, value, updated_by) VALUES ('yolo', 'enum', '1', 'x')"
        )


def test_fill_trade_ids_are_unique_per_mode_and_run(db: psycopg.Connection) -> None:
    insert = (
        "INSERT INTO fills (trade_id, mode, run_id, venue_order_id, token_id, side, price, size, fee_usd, status,"
        " is_maker, source_ts, recv_ts) VALUES ('t-1', %s, %s, %s, '123', 'BUY', 0.5, 5, 0.0875, 'MATCHED',"
        " false, %s, %s)"
    )
    db.execute(insert, ("LIVE", None, VENUE_ID, NOW, NOW))
    with pytest.raises(errors.UniqueViolation):
        db.execute(insert, ("LIVE", None, VENUE_ID, NOW, NOW))
    db.execute(insert, ("BACKTEST", "run-1", VENUE_ID, NOW, NOW))
    with pytest.raises(errors.CheckViolation):  # a backtest row must name its run
        db.execute(insert.replace("'t-1'", "'t-2'"), ("BACKTEST", None, VENUE_ID, NOW, NOW))


def test_one_open_gap_per_feed(db: psycopg.Connection) -> None:
    db.execute("INSERT INTO feed_gaps (feed, started_at) VALUES ('market_ws', %s)", (NOW,))
    with pytest.raises(errors.UniqueViolation):
        db.execute("INSERT INTO feed_gaps (feed, started_at) VALUES ('market_ws', %s)", (NOW,))
