"""Alert delivery through apprise (Discord, Telegram, a webhook: any apprise URL, from the
environment as secrets).

`Notifier.notify(alert)` sends an alert at most once (by kind and dedupe key, as the delivery log
remembers), retries a failed delivery a few times with backoff (tenacity), records the outcome
(delivered, or the error) and never raises: an alert that cannot be delivered must not stop trading
or the process that raised it. The URLs are never logged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Protocol

import apprise
import structlog
from pydantic import SecretStr
from tenacity import RetryError, Retrying, retry_if_result, stop_after_attempt, wait_exponential

from core.models import Alert

__all__ = ["DeliveryLog", "Notifier"]

log = structlog.get_logger(__name__)


class DeliveryLog(Protocol):
    def delivered(self, alert: Alert) -> bool: ...

    def record(self, alert: Alert, delivered_at: datetime | None, error: str | None) -> None: ...


class Notifier:
    def __init__(
        self,
        urls: Sequence[SecretStr],
        delivery_log: DeliveryLog,
        *,
        attempts: int = 4,
        wait_max_s: float = 4.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._apprise = apprise.Apprise()
        for url in urls:
            if not self._apprise.add(url.get_secret_value()):
                raise ValueError("an alert URL apprise does not understand (the URL is not shown)")
        self._log = delivery_log
        self._attempts, self._wait_max_s, self._now = attempts, wait_max_s, now
        self._lock = threading.Lock()  # one delivery at a time: the dedupe check and the send together
        self.sent = 0
        self.failed = 0

    @property
    def configured(self) -> bool:
        return len(self._apprise) > 0

    def notify(self, alert: Alert) -> bool:
        """Deliver `alert` unless it already was; True when it is delivered (now or before)."""
        if not self.configured:
            return False
        with self._lock:
            try:
                if self._log.delivered(alert):
                    return True
            except Exception as exc:  # the log's database away: deliver anyway, better twice than never
                log.warning("alerts.delivery_log_unavailable", error=str(exc)[:200])
            ok, error = self._send(alert)
            try:
                self._log.record(alert, self._now() if ok else None, error)
            except Exception as exc:
                log.warning("alerts.delivery_not_recorded", kind=alert.alert_kind, error=str(exc)[:200])
        if ok:
            self.sent += 1
        else:
            self.failed += 1
            log.error(
                "alerts.delivery_failed", kind=alert.alert_kind, dedupe_key=alert.dedupe_key, error=error
            )
        return ok

    def _send(self, alert: Alert) -> tuple[bool, str | None]:
        title = f"[{alert.severity.value}] {alert.alert_kind}"
        retrying = Retrying(
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=0.2, max=self._wait_max_s),
            retry=retry_if_result(lambda delivered: not delivered),
        )
        try:
            retrying(lambda: bool(self._apprise.notify(title=title, body=alert.message)))
        except RetryError:
            return False, f"not delivered after {self._attempts} attempts"
        except Exception as exc:  # apprise raising is a delivery failure, never the caller's problem
            return False, f"{type(exc).__name__}: {str(exc)[:200]}"
        return True, None
