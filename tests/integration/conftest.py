"""Integration fixtures on the session's own stack (`endpoints`, in tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from infra import stack
from sinks.postgres.migrate import migrate
from tests.simulator.conftest import RunningSim, fast_config, start_sim


@pytest.fixture
def fresh_database(endpoints: stack.Endpoints) -> Iterator[str]:
    """A new, empty database on the stack's server, dropped afterwards."""
    name = f"pw_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(endpoints.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_conninfo(endpoints.database_url, dbname=name)
    finally:
        with psycopg.connect(endpoints.database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sim() -> Iterator[RunningSim]:
    """A simulator whose trades are mined and confirmed fast (the execution tests' venue); a test
    module may define its own `sim`."""
    running, stop = start_sim(fast_config(trade_mined_delay_s=0.02, trade_confirmed_delay_s=0.02))
    try:
        yield running
    finally:
        stop()


@pytest.fixture
def conn(fresh_database: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to a fresh, migrated database."""
    migrate(fresh_database)
    with psycopg.connect(fresh_database, autocommit=True) as c:
        yield c
