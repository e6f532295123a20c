"""`polywindow sweep`: backtests of one strategy over a parameter grid, in parallel processes
(construction only: the grid and the figures are core.sweep's, the runs research.sweep's)."""

from __future__ import annotations

from pathlib import Path

import typer

from polywindow.cli_common import fail, reach, settings_of

__all__ = ["sweep"]

STRATEGY_OPTION = typer.Option(..., "--strategy", help="The strategy (core.strategies).")
GRID_OPTION = typer.Option(..., "--grid", help='JSON or TOML: {"param": [values], "fixed": value}.')
START_OPTION = typer.Option(..., "--from", help="Start of the period (ISO 8601 with offset).")
END_OPTION = typer.Option(..., "--to", help="End of the period (exclusive).")
PROCESSES_OPTION = typer.Option(2, "-p", "--processes", min=1, help="Backtests at once, one process each.")
INSTRUMENTS_OPTION = typer.Option(
    "", "--instruments", help="Allowed instruments, comma-separated (default: all)."
)
OUT_OPTION = typer.Option(Path("sweep-out"), "--out", help="Where sweep.csv and sweep.html go.")


def sweep(
    strategy: str = STRATEGY_OPTION,
    grid: Path = GRID_OPTION,
    start: str = START_OPTION,
    end: str = END_OPTION,
    processes: int = PROCESSES_OPTION,
    instruments: str = INSTRUMENTS_OPTION,
    out: Path = OUT_OPTION,
) -> None:
    """Replay the archive once per parameter set of the grid (windows with a feed gap left out),
    each settled at the venue's resolutions: trades, win rate with its 95% Wilson interval, P&L net
    of fees and maximum drawdown per set, as a table, OUT/sweep.csv and OUT/sweep.html."""
    import psycopg
    from pydantic import ValidationError

    from core.backtest import all_instruments
    from core.strategies import build_strategy
    from core.sweep import expand_grid
    from polywindow.flow_cli import utc_arg
    from polywindow.research_common import ResearchSettings, backtest_job, read_decimal_file
    from research.sweep import run_sweep
    from research.sweep_report import csv_text, table_lines, write_chart
    from sinks.postgres.strategy_registry import latest_version

    settings = settings_of(ResearchSettings)
    begin, finish = utc_arg(start, "--from"), utc_arg(end, "--to")
    if begin >= finish:
        fail("--from must be before --to")
    try:
        param_sets = expand_grid(read_decimal_file(grid, "grid"))
        for params in param_sets:
            build_strategy(strategy, params)
    except (KeyError, ValueError, ValidationError) as exc:
        fail(f"--strategy/--grid: {exc}")
    allowed = frozenset(i.strip() for i in instruments.split(",") if i.strip()) or all_instruments()
    endpoints = reach(settings, kafka=False)
    base = backtest_job(settings, endpoints.database_url, begin, finish, strategy, {}, allowed)
    with psycopg.connect(endpoints.database_url, autocommit=True) as conn:
        version = latest_version(conn, strategy)
    kill = version.expectation.kill if version is not None and version.expectation is not None else None
    typer.echo(
        f"sweep {strategy}: {len(param_sets)} parameter set(s) on {processes} process(es); kill criterion:"
        f" {kill.model_dump_json() if kill else 'none registered'}"
    )
    rows = run_sweep(base, param_sets, processes, kill)
    for line in table_lines(rows):
        typer.echo(line)
    excluded = sorted({w for row in rows for w in row.excluded_windows})
    if excluded:
        typer.echo(f"left out (feed gap): {', '.join(excluded)}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.csv").write_text(csv_text(rows))
    write_chart(rows, out / "sweep.html", f"sweep {strategy} {begin.isoformat()} .. {finish.isoformat()}")
    typer.echo(f"wrote {out / 'sweep.csv'} and {out / 'sweep.html'}")
