"""Integration fixtures on the session's own stack (`endpoints`, in tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from infra import stack


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
