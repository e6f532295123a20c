"""Integration fixtures: the real local stack (or the cluster/database the environment names)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from infra import stack
from polywindow.settings import StackSettings, load
from sinks.postgres.migrate import migrate


@pytest.fixture(scope="session")
def endpoints() -> stack.Endpoints:
    """The running stack; started if it is not (idempotent), migrations applied."""
    settings = load(StackSettings)
    url = settings.database_url.get_secret_value() if settings.database_url else None
    found = stack.up(
        settings.stack_dir,
        url,
        settings.kafka_bootstrap_servers,
        settings.kafka_client_config,
        settings.startup_timeout_s,
    )
    migrate(found.database_url)
    return found


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
