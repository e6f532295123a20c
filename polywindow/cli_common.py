"""What every `polywindow` sub-command shares: how it fails, loads its settings and reaches the stack."""

from __future__ import annotations

from typing import NoReturn, TypeVar

import typer

from infra import stack
from polywindow.settings import LogSettings, SettingsError, StackSettings, load

__all__ = ["fail", "reach", "settings_of", "url_of"]

S = TypeVar("S", bound=LogSettings)


def fail(message: str, code: int = 2) -> NoReturn:
    typer.secho(f"polywindow: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def settings_of(model: type[S]) -> S:
    """The settings of one process; a bad setting stops it with a message naming the setting."""
    try:
        return load(model)
    except SettingsError as exc:
        fail(str(exc))


def url_of(settings: StackSettings) -> str | None:
    return settings.database_url.get_secret_value() if settings.database_url else None


def reach(settings: StackSettings, *, postgres: bool = True, kafka: bool = True) -> stack.Endpoints:
    """Where PostgreSQL and Kafka are, waiting until the ones a command needs answer; exit 2 if not."""
    try:
        endpoints = stack.endpoints(settings.stack_dir, url_of(settings), settings.kafka_bootstrap_servers)
        if postgres:
            stack.wait_postgres(endpoints.database_url, settings.startup_timeout_s)
        if kafka:
            stack.wait_kafka(endpoints.kafka_bootstrap, settings.kafka_client(), settings.startup_timeout_s)
    except stack.StackError as exc:
        fail(str(exc))
    return endpoints
