"""Integration fixtures on the session's own stack (`endpoints`, in tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

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
def own_kafka(endpoints: stack.Endpoints, tmp_path: Path) -> Iterator[tuple[stack.Endpoints, dict[str, str]]]:
    """A fresh embedded broker in a stack dir of the test's own, as a new user's `make run` meets it,
    and the environment that points `polywindow` there. Commands that start consumers from the
    earliest offset (flow, sink) would otherwise read every earlier test's data on the session's
    broker first, and windows from it."""
    stack_dir = tmp_path / "stack"
    found = stack.up(stack_dir, endpoints.database_url, None, {}, 60)
    try:
        yield found, {"POLYWINDOW_STACK_DIR": str(stack_dir), "KAFKA_BOOTSTRAP_SERVERS": ""}
    finally:
        stack.down(stack_dir)


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
