"""Gamma discovery against the simulator's CLOB faults: a 429, a 503 or a timeout on `GET /book`
is transient (the window is not emitted yet, and is discovered once the fault clears); only the
venue's definite not-found answer marks a window invalid, and then for good."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from connectors.kafka import EventProducer
from connectors.polymarket.gamma import WindowDiscovery
from core.models import WindowEvent
from infra import stack
from tests.integration.feeds_harness import Venue, synthetic_venue
from tests.simulator.conftest import admin_token

pytestmark = [pytest.mark.stack, pytest.mark.timeout(60)]

NOT_FOUND = "No orderbook exists for the requested token id"


@pytest.fixture
def venue() -> Iterator[Venue]:
    with synthetic_venue() as running:
        yield running


def admin(venue: Venue, path: str, body: dict[str, Any] | None = None) -> None:
    response = httpx.post(
        f"http://{venue.address}/_admin{path}", json=body or {}, headers={"X-Admin-Token": admin_token()}
    )
    response.raise_for_status()


def rounds(venue: Venue, endpoints: stack.Endpoints, between: list[dict[str, Any] | None]) -> list[Any]:
    """One discovery poll per entry of `between`, after setting that fault (None: clear all faults).

    Returns, per round, the ids emitted and the ids marked invalid. The CLOB client's timeout is short
    so that the latency fault turns into a timeout on `/book` (Gamma's client waits longer)."""
    producer = EventProducer(endpoints.kafka_bootstrap)
    out: list[Any] = []

    async def main() -> None:
        async with (
            httpx.AsyncClient(base_url=f"http://{venue.address}/gamma", timeout=10) as gamma,
            httpx.AsyncClient(base_url=f"http://{venue.address}", timeout=0.3) as clob,
        ):
            now = lambda: datetime.now(UTC)  # noqa: E731
            discovery = WindowDiscovery(gamma, clob, producer, ["btc"], [300], now)
            for fault in between:
                if fault is None:
                    admin(venue, "/faults/reset")
                else:
                    admin(venue, "/faults", fault)
                emitted: list[WindowEvent] = await discovery.poll()
                out.append(({e.window_id for e in emitted}, set(discovery.windows.invalid)))

    asyncio.run(main())
    producer.flush()
    return out


@pytest.mark.parametrize(
    "fault",
    [
        {"http_error_count": -1, "http_error_status": 503, "http_error_paths": ["/book"]},
        {"http_error_count": -1, "http_error_status": 429, "http_error_paths": ["/book"]},
        {"http_error_count": -1, "http_error_status": 500, "http_error_paths": ["/book"]},
        {"latency_ms": 1000},
    ],
    ids=["503", "429", "500", "timeout"],
)
def test_a_transient_clob_error_delays_a_window_until_the_fault_clears(
    venue: Venue, endpoints: stack.Endpoints, fault: dict[str, Any]
) -> None:
    (during, invalid_during), (after, invalid_after) = rounds(venue, endpoints, [fault, None])
    assert during == set() and invalid_during == set()
    assert after, "the windows are discovered once the fault clears"
    assert invalid_after == set()


def test_a_definite_not_found_marks_the_window_invalid_for_good(
    venue: Venue, endpoints: stack.Endpoints
) -> None:
    not_found = {
        "http_error_count": -1,
        "http_error_status": 404,
        "http_error_message": NOT_FOUND,
        "http_error_paths": ["/book"],
    }
    (during, invalid_during), (after, invalid_after) = rounds(venue, endpoints, [not_found, None])
    assert during == set() and invalid_during
    assert after.isdisjoint(invalid_during)
    assert invalid_after == invalid_during


@pytest.mark.parametrize(
    "status, message",
    [(400, "Invalid token id"), (404, "<html>Not Found</html>")],
    ids=["400", "404-not-venue"],
)
def test_another_4xx_is_refused_for_now_and_asked_again_later(
    venue: Venue, endpoints: stack.Endpoints, status: int, message: str
) -> None:
    """A 404 that is not the venue's not-found answer (a proxy's page) is not definite either."""
    refused = {
        "http_error_count": -1,
        "http_error_status": status,
        "http_error_message": message,
        "http_error_paths": ["/book"],
    }
    (during, invalid_during), (after, invalid_after) = rounds(venue, endpoints, [refused, None])
    assert during == set() and invalid_during == set()
    assert after and invalid_after == set()
