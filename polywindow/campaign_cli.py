"""`polywindow campaign ...` and `polywindow checklist`: verification campaigns against the simulator
and the pre-deployment checklist read from their evidence (issue 14)."""

from __future__ import annotations

import psycopg
import typer

from polywindow.cli_common import fail, reach, settings_of
from polywindow.settings import StackSettings
from sinks.postgres.migrate import MigrationError, migrate

campaign_app = typer.Typer(no_args_is_help=True, help="Verification campaigns: LIVE against the simulator.")

__all__ = ["campaign_app", "checklist_cmd"]


def checklist_cmd() -> None:
    """Seed 3.1's pre-deployment checklist from the stored campaign evidence: each line CONFIRMED or
    MISSING with where its evidence is; exit 1 while any line is MISSING."""
    from polywindow.campaign_gate import checklist_lines

    endpoints = reach(settings_of(StackSettings), kafka=False)
    try:
        migrate(endpoints.database_url)  # a fresh database has no campaign tables yet: MISSING, not an error
    except MigrationError as exc:
        fail(str(exc))
    with psycopg.connect(endpoints.database_url, autocommit=True) as conn:
        lines = checklist_lines(conn)
    for line in lines:
        typer.echo(f"{line.status:<9}  {line.item}  ({line.where})")
    missing = sum(not line.confirmed for line in lines)
    typer.echo("checklist complete" if not missing else f"checklist incomplete: {missing} line(s) MISSING")
    raise typer.Exit(1 if missing else 0)
