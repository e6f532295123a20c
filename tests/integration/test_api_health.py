"""GET /health when the database cannot be reached: a 503 naming it, quickly, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from psycopg.conninfo import make_conninfo

from infra import stack
from tests.integration.api_harness import RunningApi, running_api
from tests.integration.private_kafka import PrivateKafka, private_kafka

pytestmark = [pytest.mark.stack, pytest.mark.timeout(60)]


@pytest.fixture
def api_without_database(endpoints: stack.Endpoints) -> Iterator[RunningApi]:
    missing = make_conninfo(endpoints.database_url, dbname="pw_no_such_database")
    kafka: PrivateKafka
    with private_kafka() as kafka, running_api(missing, kafka.bootstrap) as running:
        yield running


def test_health_is_503_naming_the_database_when_it_cannot_be_reached(
    api_without_database: RunningApi,
) -> None:
    with api_without_database.client(token=None) as client:
        answer = client.get("/health")
    assert answer.status_code == 503
    body = answer.json()
    assert body["healthy"] is False and any("database" in p for p in body["problems"])


def test_a_write_while_the_database_is_away_is_a_503_not_a_500(api_without_database: RunningApi) -> None:
    with api_without_database.client() as client:
        answer = client.post("/api/kill-switch/pause", json={"who": "ops", "why": "db test"})
        history = client.get("/api/history/orders")
    assert answer.status_code == 503 and "database unavailable" in answer.json()["detail"]
    assert history.status_code == 503
