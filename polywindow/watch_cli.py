"""`polywindow watch`: the operations watcher (sinks.ops_watcher) as a process of its own.

A separate process rather than a part of `polywindow sink`'s loop: the sink blocks on Kafka and
commits per batch, the watcher reads PostgreSQL on an interval; each does one job, and either can
stop without the other. The watcher only raises alerts on ops.alerts; the sink stores and delivers
them (once per kind and dedupe key), so alerts the watcher raises while the sink is down wait on the
topic. Its own pool has the statement timeout of every long-running process.
"""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime

import typer

__all__ = ["watch"]


def _now() -> datetime:
    return datetime.now(UTC)


def watch() -> None:
    """Read PostgreSQL every POLYWINDOW_WATCH_INTERVAL_S and raise on ops.alerts: drawdown past
    POLYWINDOW_ALERT_DRAWDOWN_USD, UNKNOWN orders, feed gaps, the health check failing, database
    connections above 80%, statement timeouts and the daily summary; registered strategies whose
    kill criterion is met are paused (one `strategy.killed` alert each); until Ctrl-C or SIGTERM."""
    from connectors.kafka import EventProducer
    from core.models import Alert, ControlChange
    from polywindow.cli_common import fail
    from polywindow.cli_common import reach as _reach
    from polywindow.cli_common import settings_of as _settings
    from polywindow.settings import WatchSettings
    from sinks.ops_watcher import OpsWatcher, WatchLimits
    from sinks.postgres.migrate import MigrationError, migrate
    from sinks.postgres.statement_timeout import timeout_pool

    settings = _settings(WatchSettings)
    endpoints = _reach(settings)
    try:
        migrate(endpoints.database_url)
    except MigrationError as exc:
        fail(str(exc))
    producer = EventProducer(endpoints.kafka_bootstrap, settings.kafka_client())

    def publish(alert: Alert) -> None:
        producer.produce("ops.alerts", alert)
        producer.flush(5)

    pool = timeout_pool(
        endpoints.database_url,
        process="watch",
        timeout_ms=settings.db_statement_timeout_ms,
        report=publish,
        now=_now,
        min_size=1,
        max_size=2,
        timeout=5.0,
    )
    limits = WatchLimits(
        drawdown_usd=settings.alert_drawdown_usd, max_connections=settings.db_max_connections
    )

    def publish_control(change: ControlChange) -> None:
        producer.produce("ctl.controls", change)
        producer.flush(5)

    watcher = OpsWatcher(pool, publish, limits, _now, publish_control)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    typer.echo(f"watch: PostgreSQL every {settings.watch_interval_s} s -> ops.alerts")
    try:
        watcher.run(stop.is_set, stop.wait, settings.watch_interval_s)
    finally:
        pool.close()
        producer.close(5)
        typer.echo(f"watch: stopped after {watcher.checks} check(s)")
