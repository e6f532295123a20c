"""Fuzzing the control API from its own OpenAPI document (schemathesis, over a real socket): no
operation answers 5xx, whatever it is sent, with the token (writes really happen) or without it
(every write is a 401)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from sinks.postgres.migrate import migrate
from tests.integration.api_harness import TOKEN, RunningApi, running_api
from tests.integration.private_kafka import private_kafka
from tests.ui.live_rows import live_feed

pytestmark = [pytest.mark.stack, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def api(endpoints: object) -> Iterator[RunningApi]:
    import uuid

    import psycopg
    from psycopg.conninfo import make_conninfo

    url = endpoints.database_url  # type: ignore[attr-defined]
    name = f"pw_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database = make_conninfo(url, dbname=name)
    migrate(database)
    try:
        with private_kafka() as kafka, running_api(database, kafka.bootstrap, live=live_feed()) as running:
            yield running  # the live view holds a window, so /api/live/{instrument} answers 200 and 404
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _operations(api: RunningApi) -> list[Any]:
    loaded = schemathesis.openapi.from_url(f"{api.base}/openapi.json")
    return [result.ok() for result in loaded.get_all_operations()]  # type: ignore[union-attr]


def _fuzz(api: RunningApi, headers: dict[str, str], examples: int) -> list[str]:
    """Every operation, positive and negative data; the labels fuzzed."""
    labels = []
    for operation in _operations(api):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(mode))
            @settings(
                max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None
            )
            def fuzz(case: Any) -> None:
                response = case.call(base_url=api.base, headers=headers)
                assert response.status_code < 500, (
                    case.method,
                    case.formatted_path,
                    case.body,
                    response.text,
                )
                if not headers and case.method.upper() == "POST":
                    assert response.status_code == 401, (case.formatted_path, response.text)

            try:
                fuzz()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE, operation.label  # nothing of it to get wrong
        labels.append(operation.label)
    return labels


def test_no_operation_answers_5xx_with_the_token(api: RunningApi) -> None:
    labels = _fuzz(api, {"Authorization": f"Bearer {TOKEN}"}, 40)
    assert "POST /api/controls" in labels and "GET /health" in labels and "GET /api/history/{kind}" in labels


def test_no_operation_answers_5xx_without_the_token_and_writes_are_401(api: RunningApi) -> None:
    _fuzz(api, {}, 15)
