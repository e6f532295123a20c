"""Venue errors classified by remedy: only the venue's own not-found answer is definite."""

from __future__ import annotations

import pytest

from core.venue_errors import Remedy, classify


@pytest.mark.parametrize("status", [None, 429, 500, 502, 503, 504, 599])
def test_no_answer_a_rate_limit_or_a_server_error_is_retried(status: int | None) -> None:
    assert classify(status, "No orderbook exists for the requested token id") is Remedy.RETRY


@pytest.mark.parametrize(
    "error", ["No orderbook exists for the requested token id", "market not found", "MARKET NOT FOUND"]
)
def test_the_venues_not_found_answer_is_definite(error: str) -> None:
    assert classify(404, error) is Remedy.DEFINITE


@pytest.mark.parametrize(
    "status, error",
    [(404, "<html>Not Found</html>"), (404, ""), (400, "Invalid token id"), (401, "Unauthorized"), (403, "")],
)
def test_any_other_refusal_is_refused_not_definite(status: int, error: str) -> None:
    assert classify(status, error) is Remedy.REFUSED
