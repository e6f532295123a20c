"""`polywindow strategy register|list|show|backtest`: the strategy registry (issue 14, seed 3.2).

A version is registered from a JSON or TOML file with its parameters, risk parameters, instrument
scope and pre-registered expectation, before its first trade; LIVE refuses a strategy whose latest
version has no expectation (`require_live_ready`). `backtest` replays the archive with the latest
version's parameters and acts on its kill criterion as the runtime does (construction only: rules
in core.strategy_review, acts in sinks.strategy_kill)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import typer

from polywindow.cli_common import fail, reach, settings_of

__all__ = ["require_live_ready", "strategy_app"]

strategy_app = typer.Typer(no_args_is_help=True, help="The strategy registry: versions and expectations.")

WHO = typer.Option("operator", "--who", help="Who registers (audited).")
FILE = typer.Argument(..., help="The registration, JSON or TOML.")
NAME = typer.Argument(..., help="The strategy.")
FROM = typer.Option(..., "--from", help="Start of the period (ISO 8601 with offset).")
TO = typer.Option(..., "--to", help="End of the period (exclusive).")


def _connect(database_url: str) -> psycopg.Connection:
    from sinks.postgres.migrate import MigrationError, migrate

    try:
        migrate(database_url)
    except MigrationError as exc:
        fail(str(exc))
    return psycopg.connect(database_url, autocommit=True)


@strategy_app.command("register")
def register_cmd(file: Path = FILE, who: str = WHO) -> None:
    """Register a new version of a strategy from FILE (validated: the strategy exists, its
    parameters build it, its instruments are known); prints the version."""
    from pydantic import ValidationError

    from core.backtest import all_instruments
    from core.strategies import build_strategy
    from core.strategy_review import Registration
    from polywindow.research_common import ResearchSettings, read_decimal_file
    from sinks.postgres.strategy_registry import register

    settings = settings_of(ResearchSettings)
    try:
        registration = Registration.model_validate(read_decimal_file(file, "registration"))
        build_strategy(registration.strategy, registration.params)
    except (ValidationError, KeyError) as exc:
        fail(f"registration {file}: {exc}")
    unknown = sorted(set(registration.instruments) - all_instruments())
    if unknown:
        fail(f"registration {file}: unknown instruments {unknown}; known: {sorted(all_instruments())}")
    endpoints = reach(settings, kafka=False)
    with _connect(endpoints.database_url) as conn:
        version = register(conn, registration, who, datetime.now(UTC))
    note = "" if registration.expectation else " (no expectation: LIVE refuses it)"
    typer.echo(f"registered {registration.strategy}@v{version}{note}")


@strategy_app.command("list")
def list_cmd() -> None:
    """Each registered strategy's latest version: scope, expectation, registration time."""
    from polywindow.research_common import ResearchSettings
    from sinks.postgres.strategy_registry import latest_versions

    endpoints = reach(settings_of(ResearchSettings), kafka=False)
    with _connect(endpoints.database_url) as conn:
        rows = latest_versions(conn)
    typer.echo(f"{'strategy':<20} {'version':>7}  {'expectation':<18} {'registered':<26} instruments")
    for v in rows:
        exp = v.expectation
        rate = f"{exp.win_rate_low}-{exp.win_rate_high}" if exp else "none (no LIVE)"
        typer.echo(
            f"{v.strategy:<20} {v.version:>7}  {rate:<18} {v.registered_at.isoformat():<26} {','.join(v.instruments)}"
        )


@strategy_app.command("show")
def show_cmd(name: str = NAME) -> None:
    """Every version of a strategy as JSON lines, with its kills."""
    from polywindow.research_common import ResearchSettings
    from sinks.postgres.strategy_registry import strategy_versions

    endpoints = reach(settings_of(ResearchSettings), kafka=False)
    with _connect(endpoints.database_url) as conn:
        versions = strategy_versions(conn, name)
        kills = conn.execute(
            "SELECT version, mode, reason, settled_windows, paused, killed_at FROM strategy_kills"
            " WHERE strategy = %s ORDER BY killed_at",
            (name,),
        ).fetchall()
    if not versions:
        fail(f"strategy {name!r} is not registered", code=1)
    for v in versions:
        killed = [
            {"mode": m, "reason": r, "settled_windows": n, "paused": p, "at": at.isoformat()}
            for ver, m, r, n, p, at in kills
            if ver == v.version
        ]
        typer.echo(
            json.dumps(
                {
                    "strategy": v.strategy,
                    "version": v.version,
                    "params": v.params,
                    "risk": v.risk,
                    "instruments": list(v.instruments),
                    "expectation": v.expectation.model_dump(mode="json") if v.expectation else None,
                    "registered_by": v.registered_by,
                    "registered_at": v.registered_at.isoformat(),
                    "kills": killed,
                }
            )
        )


@strategy_app.command("backtest")
def backtest_cmd(name: str = NAME, start: str = FROM, end: str = TO) -> None:
    """Replay the archive with the latest version's parameters and scope (feed-gap windows left
    out), settle each window, check the kill criterion after every settled window as the runtime
    does: when met, the strategy is paused (allowed_strategies, audited, on ctl.controls) and one
    `strategy.killed` alert raised on ops.alerts; exit 1 then."""
    from connectors.kafka import EventProducer
    from core.models import Alert, ControlChange
    from core.strategy_review import kill_point
    from core.sweep import sweep_metrics
    from polywindow.flow_cli import utc_arg
    from polywindow.research_common import ResearchSettings, backtest_job
    from research.backtest import run_backtest
    from research.sweep import settled_results
    from sinks.postgres.strategy_registry import latest_version
    from sinks.strategy_kill import enforce_kill

    settings = settings_of(ResearchSettings)
    begin, finish = utc_arg(start, "--from"), utc_arg(end, "--to")
    if begin >= finish:
        fail("--from must be before --to")
    endpoints = reach(settings)
    with _connect(endpoints.database_url) as conn:
        version = latest_version(conn, name)
    if version is None or version.expectation is None:
        fail(
            f"strategy {name!r} has no registered version with an expectation (polywindow strategy register)"
        )
    job = backtest_job(
        settings, endpoints.database_url, begin, finish, name, version.params, frozenset(version.instruments)
    )
    run = run_backtest(job)
    results = settled_results(run.trades)
    m = sweep_metrics(run.trades)
    typer.echo(
        f"{name}@v{version.version} {begin.isoformat()} .. {finish.isoformat()}: {m.trades} trades,"
        f" win rate {m.win_rate}, P&L {m.pnl_usd} USD net of fees, max drawdown {m.max_drawdown_usd} USD"
    )
    if run.excluded_windows:
        typer.echo(f"left out (feed gap): {', '.join(run.excluded_windows)}")
    verdict = kill_point(results, version.expectation.kill)
    if verdict is None:
        typer.echo("kill criterion not met")
        return
    producer = EventProducer(endpoints.kafka_bootstrap, settings.kafka_client())

    def publish_control(change: ControlChange) -> None:
        producer.produce("ctl.controls", change)

    try:
        with psycopg.connect(endpoints.database_url, autocommit=True) as conn:
            alert: Alert | None = enforce_kill(
                conn, publish_control, version, "BACKTEST", verdict, datetime.now(UTC)
            )
        if alert is not None:
            producer.produce("ops.alerts", alert)
        producer.flush(10)
    finally:
        producer.close(5)
    done = "paused, alert raised" if alert is not None else "already recorded for this version"
    typer.echo(f"kill criterion met after {verdict[0]} settled window(s): {verdict[1]} ({done})")
    raise typer.Exit(1)


def require_live_ready(database_url: str, strategies: Mapping[str, Mapping[str, Any]]) -> None:
    """Stop a LIVE start (exit 2, naming why) unless each strategy's latest registered version has an
    expectation and the parameters it will run with."""
    from core.strategy_review import live_refusal
    from sinks.postgres.strategy_registry import latest_version

    with _connect(database_url) as conn:
        for name, params in strategies.items():
            version = latest_version(conn, name)
            why = live_refusal(
                name,
                params,
                None if version is None else version.params,
                version is not None and version.expectation is not None,
            )
            if why is not None:
                fail(f"LIVE refused: {why}")
