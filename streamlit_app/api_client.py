"""The dashboard's one door to the control API: reads (health, controls, history) and every write
(kill switch, controls), with the bearer token on writes only. Answers are values; a failure is an
`ApiError` carrying what the operator should read, never the token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from streamlit_app.config import DashboardConfig

__all__ = ["ApiClient", "ApiError", "History"]

TIMEOUT_S = 5.0


class ApiError(Exception):
    """The API did not answer, or refused; `str()` is the operator's message."""


@dataclass(frozen=True)
class History:
    columns: list[str]
    rows: list[dict[str, Any]]


class ApiClient:
    def __init__(self, config: DashboardConfig) -> None:
        self._config = config

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers: dict[str, str] = {}
        if method == "POST":
            if self._config.api_token is None:
                raise ApiError(
                    "no API token (POLYWINDOW_API_TOKEN) was given to the dashboard: it cannot write"
                )
            headers["Authorization"] = f"Bearer {self._config.api_token.get_secret_value()}"
        try:
            return httpx.request(
                method, f"{self._config.api_url}{path}", headers=headers, timeout=TIMEOUT_S, **kwargs
            )
        except httpx.HTTPError as exc:
            raise ApiError(
                f"the API at {self._config.api_url} does not answer ({type(exc).__name__})"
            ) from None

    @staticmethod
    def _refused(answer: httpx.Response) -> ApiError:
        detail: Any = answer.text
        if "json" in answer.headers.get("content-type", ""):
            detail = answer.json().get("detail", detail)
        return ApiError(f"the API refused ({answer.status_code}): {detail}")

    def health(self) -> dict[str, Any]:
        """The /health body, healthy or not (a 503 carries the same body with its problems)."""
        answer = self._request("GET", "/health")
        if answer.status_code not in (200, 503):
            raise self._refused(answer)
        body: dict[str, Any] = answer.json()
        return body

    def live(self) -> dict[str, Any]:
        """GET /api/live: each instrument's current window as the flow sees it (books, oracle, strategies)."""
        answer = self._request("GET", "/api/live")
        if answer.status_code != 200:
            raise self._refused(answer)
        body: dict[str, Any] = answer.json()
        return body

    def controls(self) -> dict[str, dict[str, Any]]:
        answer = self._request("GET", "/api/controls")
        if answer.status_code != 200:
            raise self._refused(answer)
        body: dict[str, dict[str, Any]] = answer.json()
        return body

    def history(self, kind: str, **filters: str | int) -> History:
        answer = self._request("GET", f"/api/history/{kind}", params=filters)
        if answer.status_code != 200:
            raise self._refused(answer)
        body = answer.json()
        return History(columns=body["columns"], rows=body["rows"])

    def history_csv(self, kind: str, **filters: str | int) -> bytes:
        answer = self._request("GET", f"/api/history/{kind}", params={**filters, "format": "csv"})
        if answer.status_code != 200:
            raise self._refused(answer)
        return answer.content

    def kill_switch(self, action: str, why: str) -> dict[str, Any]:
        """action: pause, flatten, emergency or resume."""
        body = {"who": self._config.operator, "why": why}
        answer = self._request("POST", f"/api/kill-switch/{action}", json=body)
        if answer.status_code != 200:
            raise self._refused(answer)
        changed: dict[str, Any] = answer.json()
        return changed

    def set_control(self, name: str, value: str, why: str) -> dict[str, Any]:
        body = {"name": name, "value": value, "who": self._config.operator, "why": why}
        answer = self._request("POST", "/api/controls", json=body)
        if answer.status_code != 200:
            raise self._refused(answer)
        changed: dict[str, Any] = answer.json()
        return changed

    def reset_breaker(self, why: str) -> dict[str, Any]:
        answer = self._request("POST", "/api/breaker/reset", json={"who": self._config.operator, "why": why})
        if answer.status_code != 200:
            raise self._refused(answer)
        changed: dict[str, Any] = answer.json()
        return changed
