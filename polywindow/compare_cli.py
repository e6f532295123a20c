"""`polywindow compare`: a strategy's live or paper windows beside the same windows replayed in
BACKTEST (construction only: research.compare runs, core.strategy_compare decides)."""

from __future__ import annotations

import json

import typer

from polywindow.cli_common import fail, reach, settings_of

__all__ = ["compare_cmd"]

STRATEGY = typer.Option(..., "--strategy", help="The strategy whose positions are compared.")
MODE = typer.Option("LIVE", "--mode", help="LIVE or PAPER: which positions.")
FROM = typer.Option(..., "--from", help="Positions opened from (ISO 8601 with offset).")
TO = typer.Option(..., "--to", help="... until (exclusive).")
PARAMS = typer.Option(
    None, "--params", help="The backtest's parameters as JSON (default: the latest registered version's)."
)


def _text(value: object) -> str:
    return "-" if value is None else str(value)


def compare_cmd(
    strategy: str = STRATEGY, mode: str = MODE, start: str = FROM, end: str = TO, params: str | None = PARAMS
) -> None:
    """For each window the strategy traded in MODE, its decision, entry and P&L beside the same
    window replayed in BACKTEST (same parameters, the archive), and whether the live win rate is
    outside the backtest's 95% Wilson interval over those windows (then exit 1)."""
    from decimal import Decimal

    import psycopg

    from core.backtest import all_instruments
    from core.strategies import build_strategy
    from polywindow.flow_cli import utc_arg
    from polywindow.research_common import ResearchSettings, backtest_job
    from research.compare import compare_live
    from sinks.postgres.strategy_registry import latest_version

    settings = settings_of(ResearchSettings)
    if mode not in ("LIVE", "PAPER"):
        fail(f"--mode takes LIVE or PAPER, got {mode!r}")
    begin, finish = utc_arg(start, "--from"), utc_arg(end, "--to")
    if begin >= finish:
        fail("--from must be before --to")
    endpoints = reach(settings, kafka=False)
    with psycopg.connect(endpoints.database_url, autocommit=True) as conn:
        if params is not None:
            try:
                chosen = json.loads(params, parse_float=Decimal)
                build_strategy(strategy, chosen)
            except (KeyError, ValueError) as exc:
                fail(f"--params: {exc}")
        else:
            version = latest_version(conn, strategy)
            if version is None:
                fail(f"strategy {strategy!r} is not registered: give --params")
            chosen = version.params
        job = backtest_job(
            settings, endpoints.database_url, begin, finish, strategy, chosen, all_instruments()
        )
        result = compare_live(conn, job, mode)
    typer.echo(
        f"{'window':<28} {mode + ' side':>10} {'entry':>9} {'P&L':>10}   {'BT side':>7} {'entry':>9} {'P&L':>10}  same"
    )
    for row in result.rows:
        bt = row.backtest
        typer.echo(
            f"{row.window_id:<28} {_text(row.live.outcome):>10} {_text(row.live.entry):>9}"
            f" {_text(row.live.pnl_usd):>10}   {_text(bt and bt.outcome):>7} {_text(bt and bt.entry):>9}"
            f" {_text(bt and bt.pnl_usd):>10}  {'yes' if row.same_decision else 'NO'}"
        )
    s = result.summary
    typer.echo(
        f"{s.windows} window(s), {s.same_decisions} same decision(s); {mode}: {s.live_wins}/{s.live_settled} won,"
        f" P&L {s.live_pnl_usd} USD; backtest: {s.backtest_wins}/{s.backtest_settled} won, P&L"
        f" {s.backtest_pnl_usd} USD, win rate 95% Wilson interval {_text(s.ci_low)}-{_text(s.ci_high)}"
    )
    if s.live_outside:
        typer.echo(f"{mode} win rate is OUTSIDE the backtest's interval")
        raise typer.Exit(1)
    typer.echo(
        f"{mode} win rate is inside the backtest's interval"
        if s.live_outside is False
        else "nothing to judge"
    )
