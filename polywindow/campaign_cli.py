"""`polywindow campaign ...` and `polywindow checklist`: verification campaigns against the simulator
and the pre-deployment checklist read from their evidence (issue 14)."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import typer

from infra import stack
from polywindow.cli_common import fail, reach, settings_of
from polywindow.settings import StackSettings
from sinks.postgres.campaign_store import scratch_database
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


WINDOWS = typer.Option(20, "--windows", min=1, help="Windows of every instrument to run (seed 1.4: 20).")
INSTRUMENTS = typer.Option(
    "btc-5m,eth-5m,sol-5m,xrp-5m,btc-15m,eth-15m,sol-15m,xrp-15m,btc-1h,eth-1h,sol-1h,xrp-1h",
    "--instruments",
    help="Comma-separated instruments (asset-interval).",
)
SPEED = typer.Option(1.0, "--speed", help="The simulator's scenario speed.")
SEED = typer.Option(1, "--seed", help="The simulator's scenario seed.")
MAX_MINUTES = typer.Option(240.0, "--max-minutes", help="Give up (and fail) after this long.")
REPORT = typer.Option(
    None, "--report", help="Write report.md and an SVG chart per window into this directory."
)


@campaign_app.command("canary")
def canary_cmd(
    windows: int = WINDOWS,
    instruments: str = INSTRUMENTS,
    speed: float = SPEED,
    seed: int = SEED,
    max_minutes: float = MAX_MINUTES,
    report: Path | None = REPORT,
) -> None:
    """The canary in LIVE against the simulator over N windows of every instrument, until both an Up and
    a Down resolution appeared; then PAUSE, FLATTEN and EMERGENCY through the API. Every window's
    checks stored, printed; exit 1 when any check fails."""
    import os
    import secrets
    import uuid
    from datetime import UTC, datetime

    from pydantic import SecretStr

    from connectors.clock import SimulatorClock
    from core.campaign_checks import Check, canary_registration
    from polywindow.campaign_canary import charts, evaluate, table
    from polywindow.campaign_report import write_report
    from polywindow.campaign_run import (
        CanaryPlan,
        flatten_and_emergency_steps,
        pause_step,
        paused_entries,
        poll_until_enough,
        post,
        start_live_set,
        wait_all_settled,
        wait_for_executor_pause,
    )
    from polywindow.execution_wiring import connect_venue
    from polywindow.processes import sigterm_as_interrupt
    from sinks.postgres.campaign_store import entered_windows, killed_windows, traded_windows
    from sinks.postgres.strategy_registry import register

    chosen = tuple(i.strip() for i in instruments.split(",") if i.strip())
    plan = CanaryPlan(windows, chosen, speed, seed, max_minutes)
    settings = settings_of(StackSettings)
    given = os.environ.get("POLY_PRIVATE_KEY", "").strip()  # the simulator funds any account
    key = SecretStr(given or "0x" + secrets.token_hex(32))
    try:
        endpoints = stack.up(
            settings.stack_dir,
            settings.database_url.get_secret_value() if settings.database_url else None,
            settings.kafka_bootstrap_servers,
            settings.kafka_client(),
            settings.startup_timeout_s,
        )
        migrate(endpoints.database_url)
    except (stack.StackError, MigrationError) as exc:
        fail(str(exc))
    started = datetime.now(UTC)
    run_id = f"canary-{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    rows_db = run_id.replace("-", "_").lower()
    rows_url = scratch_database(endpoints.database_url, rows_db)  # its LIVE rows never meet the operator's
    migrate(rows_url)
    with psycopg.connect(rows_url, autocommit=True) as conn:  # LIVE trades only a registered strategy
        register(conn, canary_registration(chosen), "polywindow campaign", started)
    typer.echo(f"campaign {run_id}: trading rows in database {rows_db}")
    # On the embedded broker the run gets one of its own, as its rows get a database of their own: an
    # accelerated scenario repeats window ids, and a flow reading an earlier run's md.* and
    # trade.intents from earliest rebuilt the wrong windows and refused their intents as already sent.
    run_stack = settings.stack_dir / "campaigns" / run_id
    kafka_env: dict[str, str] = {}
    if endpoints.kafka_embedded:
        try:
            own = stack.up(run_stack, endpoints.database_url, None, {}, settings.startup_timeout_s)
        except stack.StackError as exc:
            fail(str(exc))
        kafka_env = {"POLYWINDOW_STACK_DIR": str(run_stack), "KAFKA_BOOTSTRAP_SERVERS": ""}
        typer.echo(f"campaign {run_id}: a broker of its own at {own.kafka_bootstrap}")
    sigterm_as_interrupt()  # a supervisor's stop takes Ctrl-C's path: the children are stopped too
    try:
        live = start_live_set(
            plan, key, max(settings.startup_timeout_s, 120.0), {"DATABASE_URL": rows_url, **kafka_env}
        )
    except RuntimeError as exc:
        _drop_run_stack(run_stack, kafka_env)
        fail(str(exc))
    code = 1
    try:
        with (
            psycopg.connect(rows_url, autocommit=True) as conn,
            psycopg.connect(endpoints.database_url, autocommit=True) as store,
        ):
            if not wait_for_executor_pause(conn, started, 120):
                fail("the LIVE executor did not start (no `LIVE start` PAUSE in audit_log within 120 s)")
            venue = connect_venue(live.sim_url, key)
            before = venue.balance()
            since = SimulatorClock(live.sim_url).start().now()  # windows opening from now are judged
            for name, value in (
                ("trading_mode", "LIVE"),
                ("allowed_instruments", json_list(chosen)),
                ("allowed_strategies", json_list(("canary",))),
                ("kill_switch", "RUN"),
            ):
                post(live, "/api/controls", {"name": name, "value": value}).raise_for_status()
            typer.echo(
                f"campaign {run_id}: canary in LIVE on {live.sim_url}, {', '.join(chosen)}, {windows} window(s) each"
            )

            def dead() -> str | None:
                gone = [n for n, p in live.group.running.items() if p.poll() is not None]
                return f"{', '.join(gone)} exited" if gone else None

            _done, why = poll_until_enough(conn, plan, since, typer.echo, dead)
            pause, paused_at = pause_step(live, conn, 30)
            typer.echo("campaign: PAUSE set; waiting for the windows in flight to settle")
            wait_all_settled(conn, since, 10)
            all_windows = traded_windows(conn, "LIVE", since)
            entered = entered_windows(conn, "LIVE")
            killed = killed_windows(conn, "LIVE", since)
            if killed:
                typer.echo(
                    f"campaign: {len(killed)} window(s) whose entry the venue killed unfilled (FAK, nothing at the"
                    f" limit by the time it arrived): not judged, not counted: {', '.join(killed)}"
                )
            if len(entered) > len(all_windows) + len(killed):
                typer.echo(
                    f"campaign: {len(entered) - len(all_windows) - len(killed)} window(s) already open at the start were traded:"
                    " not judged (no start print of ours), counted in the balance check"
                )
            after = venue.balance()
            kills = [paused_entries(conn, pause, paused_at), *flatten_and_emergency_steps(live, conn, 60)]
            reached = Check("campaign_complete", why == "both Up and Down resolutions seen", why)
            result = evaluate(
                conn,
                venue,
                run_id=run_id,
                window_ids=all_windows,
                started_at=started,
                finished_at=datetime.now(UTC),
                balance_before_usd=before,
                balance_after_usd=after,
                gamma_url=f"{live.sim_url}/gamma",
                params={
                    "windows": windows,
                    "instruments": list(chosen),
                    "speed": speed,
                    "seed": seed,
                    "rows_in": rows_db,
                },
                extra_checks=[reached, *kills],
                store=store,
                pnl_window_ids=entered,
            )
            table(result, typer.echo)
            if report is not None:
                typer.echo(f"report: {write_report(report, run_id, result.checks, charts(result))}")
            minutes = (datetime.now(UTC) - started).total_seconds() / 60
            typer.echo(f"campaign {run_id}: {len(all_windows)} window(s) in {minutes:.1f} min")
            code = 0 if result.passed else 1
    finally:
        live.group.stop()
        _drop_run_stack(run_stack, kafka_env)
    raise typer.Exit(code)


def _drop_run_stack(run_stack: Path, kafka_env: dict[str, str]) -> None:
    """The run's own broker stopped and its folder removed (its evidence is in PostgreSQL)."""
    if kafka_env:
        stack.down(run_stack)
        shutil.rmtree(run_stack, ignore_errors=True)


def json_list(items: tuple[str, ...]) -> str:
    import json

    return json.dumps(sorted(items))


STOP_WINDOWS = typer.Option(5, "--windows", min=1, help="Windows per variant (seed 2.2: at least 5).")
VARIANTS = typer.Option("A,B,C,D,E", "--variants", help="Comma-separated variants among A-E.")


@campaign_app.command("stops")
def stops_cmd(
    windows: int = STOP_WINDOWS, variants: str = VARIANTS, seed: int = SEED, report: Path | None = REPORT
) -> None:
    """The stop-loss variants A-E (seed 2.2) over N windows each of the seeded swing scenario, through the
    LIVE executor's order and exit managers against the simulator; every trigger judged (seed 2.3),
    stored, printed; exit 1 when any check fails (E firing included)."""
    import uuid
    from datetime import UTC, datetime

    from core.campaign_stops import STOP_VARIANTS, slippage_summary
    from polywindow.campaign_stops import run_stops

    chosen = tuple(v.strip().upper() for v in variants.split(",") if v.strip())
    unknown = [v for v in chosen if v not in STOP_VARIANTS]
    if unknown or not chosen:
        fail(
            f"--variants: unknown {', '.join(unknown) or '(none given)'}; choose among {', '.join(STOP_VARIANTS)}"
        )
    endpoints = reach(settings_of(StackSettings), kafka=False)
    try:
        migrate(endpoints.database_url)
    except MigrationError as exc:
        fail(str(exc))
    started = datetime.now(UTC)
    run_id = f"stops-{started:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    rows_url = scratch_database(endpoints.database_url, run_id.replace("-", "_").lower())
    migrate(rows_url)
    typer.echo(f"campaign {run_id}: trading rows in database {run_id.replace('-', '_').lower()}")
    with (
        psycopg.connect(endpoints.database_url, autocommit=True) as store,
        psycopg.connect(rows_url, autocommit=True) as conn,
    ):
        result = run_stops(
            conn, run_id=run_id, windows=windows, variants=chosen, seed=seed, echo=typer.echo, store=store
        )
    typer.echo(
        f"{'variant':<8} {'window':<40} {'trigger':<22} {'bid':<6} {'threshold':<10} {'delay ms':<9} {'slippage'}"
    )
    for t in result.triggers:
        slip = (
            None if t.actual_price is None or t.intended_price is None else t.actual_price - t.intended_price
        )
        delay = None if t.exit_order_ms is None else t.exit_order_ms - t.trigger_ms
        threshold = f"{t.threshold:.4f}" if t.threshold is not None else "-"
        typer.echo(
            f"{t.variant:<8} {t.window_id[:40]:<40} {t.reason:<22} {t.mark!s:<6} {threshold:<10} {delay!s:<9} {slip}"
        )
    for _variant, c in result.checks:
        if c.window_id is None:
            typer.echo(f"{c.name:<16} {'PASS' if c.passed else 'FAIL'}  {c.evidence}")
    for c in result.failed:
        typer.echo(f"FAILED {c.name} [{c.window_id or 'run'}]: {c.evidence}")
    typer.echo(f"slippage (actual - intended exit price): {slippage_summary(result.triggers)}")
    if report is not None:
        from polywindow.campaign_report import write_report

        typer.echo(f"report: {write_report(report, run_id, result.checks, result.charts)}")
    total = len(result.checks)
    typer.echo(f"campaign {run_id}: {total - len(result.failed)}/{total} checks passed")
    raise typer.Exit(1 if result.failed else 0)
