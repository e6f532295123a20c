"""The dead-man switch (POLYMARKET.md §10): keep the venue's heartbeat while any of our orders rests.

Once an account has posted one heartbeat, the venue cancels all of its orders when about 10 s pass
without the next. So an executor that dies, hangs or loses the network leaves no resting order
behind, which is what we want; the executor only has to beat while it is alive and has something
resting. It calls `set_resting(True)` *before* posting an order that may rest (the first beat is
sent at once, so a crash right after the POST is already covered) and `set_resting(False)` once
nothing of ours rests; a background thread beats every `interval_s` (default 5 s, half the venue's
timeout) while resting.

Each beat carries the id the previous answer gave. A 400 `Invalid Heartbeat ID` names the id the
venue expects: the next beat uses it. Any other failure is retried at the next interval; when no
beat has succeeded for `venue_timeout_s`, `maybe_lapsed` turns true: the venue may have cancelled
everything, so the executor must reconcile before trusting its open orders.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import structlog
from py_clob_client_v2.exceptions import PolyApiException

__all__ = ["HeartbeatClient", "VenueHeartbeat"]

log = structlog.get_logger(__name__)

VENUE_TIMEOUT_S = 10.0


class HeartbeatClient(Protocol):
    def post_heartbeat(self, heartbeat_id: str = "") -> Any: ...


class VenueHeartbeat:
    """Beats for one account through `client` (py-clob-client-v2's `post_heartbeat`)."""

    def __init__(
        self,
        client: HeartbeatClient,
        interval_s: float = 5.0,
        venue_timeout_s: float = VENUE_TIMEOUT_S,
        on_beat: Callable[[str], None] | None = None,
    ) -> None:
        if not 0 < interval_s < venue_timeout_s:
            raise ValueError(f"interval_s must be within (0, {venue_timeout_s}): {interval_s}")
        self._client = client
        self.interval_s = interval_s
        self.venue_timeout_s = venue_timeout_s
        self._on_beat = on_beat
        self._heartbeat_id = ""
        self._resting = False
        self._last_ok: float | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0

    @property
    def heartbeat_id(self) -> str:
        return self._heartbeat_id

    @property
    def maybe_lapsed(self) -> bool:
        """True when beats were due and none succeeded for the venue's timeout."""
        last = self._last_ok
        return self._resting and last is not None and time.monotonic() - last > self.venue_timeout_s

    def set_resting(self, resting: bool) -> None:
        """Whether any order of ours may rest at the venue; turning on beats at once."""
        was, self._resting = self._resting, resting
        if resting and not was:
            self.beat()
            self._wake.set()

    def beat(self) -> bool:
        """Send one heartbeat now; True when the venue accepted it."""
        with self._lock:
            try:
                answer = self._client.post_heartbeat(self._heartbeat_id)
            except PolyApiException as exc:
                self.failures += 1
                expected = _expected_id(exc)
                if expected is not None:
                    self._heartbeat_id = expected
                    log.warning("venue_heartbeat.id_replaced")
                else:
                    log.warning("venue_heartbeat.failed", status=exc.status_code)
                return False
            fresh = answer.get("heartbeat_id") if isinstance(answer, dict) else None
            if isinstance(fresh, str) and fresh:
                self._heartbeat_id = fresh
            self._last_ok = time.monotonic()
        if self._on_beat is not None:
            self._on_beat(self._heartbeat_id)
        return True

    def start(self) -> None:
        """Beat in a background thread (daemon: it dies with the process, as it must)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="venue-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop beating (a clean stop cancels or hands over its orders first)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_s + 5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            if self._resting:
                self.beat()
                self._stop.wait(self.interval_s)
            else:
                self._wake.wait()
                self._wake.clear()


def _expected_id(exc: PolyApiException) -> str | None:
    """The id a 400 `Invalid Heartbeat ID` says the venue expects, if that is what `exc` is."""
    body = exc.error_msg
    if exc.status_code == 400 and isinstance(body, dict) and "Invalid Heartbeat ID" in str(body.get("error")):
        expected = body.get("heartbeat_id")
        return expected if isinstance(expected, str) and expected else None
    return None
