"""The `polywindow` command: one sub-command per process or operator task (construction only)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import structlog
import typer

from core.models import Alert
from infra import stack
from polywindow.api_cli import controls_app, serve_api
from polywindow.campaign_cli import campaign_app, checklist_cmd
from polywindow.cli_common import fail
from polywindow.cli_common import reach as _reach
from polywindow.cli_common import settings_of as _settings
from polywindow.cli_common import url_of as _url
from polywindow.compare_cli import compare_cmd
from polywindow.dashboard_cli import serve_dashboard
from polywindow.execute_cli import execute
from polywindow.flow_cli import flow, replay_cmd, utc_arg
from polywindow.logs import configure as configure_logging
from polywindow.processes import sigterm_as_ctrl_c
from polywindow.settings import (
    AlertSettings,
    DashboardSettings,
    LogSettings,
    RecorderSettings,
    SettingsError,
    StackSettings,
    check_every_process,
    load,
)
from polywindow.strategy_cli import strategy_app
from polywindow.sweep_cli import sweep
from polywindow.watch_cli import watch
from sinks.postgres.migrate import MigrationError, migrate

if TYPE_CHECKING:
    from simulator.replay_books import ReplayBooksScenario
    from sinks.alerts import Notifier


app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
stack_app = typer.Typer(no_args_is_help=True, help="The local stack: embedded PostgreSQL and Kafka.")
db_app = typer.Typer(no_args_is_help=True, help="The database schema.")
config_app = typer.Typer(no_args_is_help=True, help="Settings.")
app.add_typer(stack_app, name="stack")
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")
app.add_typer(controls_app, name="controls")
app.command("api")(serve_api)
app.command("watch")(watch)
app.command("dashboard")(serve_dashboard)
app.command("flow")(flow)
app.command("execute")(execute)
app.command("replay")(replay_cmd)
app.add_typer(campaign_app, name="campaign")
app.command("checklist")(checklist_cmd)
app.add_typer(strategy_app, name="strategy")
app.command("sweep")(sweep)
app.command("compare")(compare_cmd)


@app.callback()
def main(ctx: typer.Context) -> None:
    """Logging first: structlog (and the standard library through it) at POLYWINDOW_LOG_LEVEL."""
    configure_logging(_settings(LogSettings).log_level)
    structlog.get_logger("polywindow").debug("polywindow.command", command=ctx.invoked_subcommand)


def _stack_up(settings: StackSettings) -> stack.Endpoints:
    try:
        endpoints = stack.up(
            settings.stack_dir,
            _url(settings),
            settings.kafka_bootstrap_servers,
            settings.kafka_client(),
            settings.startup_timeout_s,
            settings.kafka_engine,
            settings.kafka_brokers,
            settings.kafka_netns,
        )
        applied = migrate(endpoints.database_url)
    except (stack.StackError, MigrationError) as exc:
        fail(str(exc))
    typer.echo(f"postgresql: {stack.redact(endpoints.database_url)}")
    typer.echo(f"kafka:      {endpoints.kafka_bootstrap}")
    typer.echo(f"migrations: {', '.join(applied) if applied else 'up to date'}")
    return endpoints


@stack_app.command("up")
def stack_up() -> None:
    """Start what is missing (idempotent), wait until both answer, apply migrations."""
    _stack_up(_settings(StackSettings))


@stack_app.command("down")
def stack_down() -> None:
    """Stop exactly the embedded processes `stack up` started (data under the stack dir stays)."""
    settings = _settings(StackSettings)
    stopped = stack.down(settings.stack_dir)
    typer.echo("stopped: " + ", ".join(stopped) if stopped else "nothing was running")


@stack_app.command("status")
def stack_status() -> None:
    """What runs, where, with pids; exit 1 if an embedded service is down."""
    settings = _settings(StackSettings)
    rows = stack.status(settings.stack_dir, _url(settings), settings.kafka_bootstrap_servers)
    for row in rows:
        state = {True: "running", False: "stopped", None: "external"}[row.running]
        pid = f"pid {row.pid}" if row.pid else ""
        typer.echo(f"{row.name:<11} {state:<8} {pid:<10} {row.where}")
    if any(row.running is False for row in rows):
        raise typer.Exit(1)


@stack_app.command("env")
def stack_env() -> None:
    """Print KAFKA_BOOTSTRAP_SERVERS=... and DATABASE_URL=... lines for `eval $(polywindow stack env)`."""
    endpoints = _reach(_settings(StackSettings), postgres=False, kafka=False)
    typer.echo(f"export KAFKA_BOOTSTRAP_SERVERS='{endpoints.kafka_bootstrap}'")
    typer.echo(f"export DATABASE_URL='{endpoints.database_url}'")


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations (a second run is a no-op)."""
    endpoints = _reach(_settings(StackSettings), kafka=False)
    try:
        applied = migrate(endpoints.database_url)
    except MigrationError as exc:
        fail(str(exc))
    typer.echo("applied: " + ", ".join(applied) if applied else "up to date")


@config_app.command("check")
def config_check() -> None:
    """Validate every setting of every process and reach PostgreSQL and Kafka, as they do at start-up."""
    try:
        settings = check_every_process()
    except SettingsError as exc:
        fail(str(exc))
    _reach(settings)
    typer.echo(f"ok: mode {settings.mode.value}, every process's settings valid, postgresql and kafka answer")


SIM_PORT = typer.Option(
    None, "--port", help="Loopback port of the simulator [default: POLYWINDOW_SIM_PORT, else 8765]."
)
SIM_SCENARIO = typer.Option(
    "synthetic",
    help="synthetic, replay (the fixture day), replay-books (recorded L2 books: the resolvedkit "
    "15-minute fixture, or the archive with --books-from/--books-to) or empty.",
)
SIM_BOOKS_FROM = typer.Option(
    None, "--books-from", help="replay-books from the archive: start (ISO 8601 with offset)."
)
SIM_BOOKS_TO = typer.Option(None, "--books-to", help="replay-books from the archive: end (exclusive).")
SIM_SPEED = typer.Option(1.0, help="Scenario speed factor (1, 10, 60).")
SIM_SEED = typer.Option(0, help="Seed for deterministic scenarios and ids.")


def _free_sim_port(port: int | None) -> int:
    """The simulator's port, refused (exit 2) when something else already listens on it."""
    from polywindow.processes import port_taken
    from polywindow.settings import SimSettings

    chosen = port if port is not None else _settings(SimSettings).sim_port
    if port_taken(chosen):
        fail(
            f"port {chosen} on 127.0.0.1 is already taken by another process, so the simulator cannot "
            f"listen there; stop that process, or move the simulator with --port N or POLYWINDOW_SIM_PORT=N"
        )
    return chosen


def _archived_books_scenario(books_from: str, books_to: str, speed: float, seed: int) -> ReplayBooksScenario:
    """The replay-books scenario over the archive's `md.book` in [books_from, books_to)."""
    from polywindow.settings import RecorderSettings
    from polywindow.sim_books import archive_books
    from simulator.replay_books import build_replay_books

    begin, finish = utc_arg(books_from, "--books-from"), utc_arg(books_to, "--books-to")
    if begin >= finish:
        fail("--books-from must be before --books-to")
    archive_dir = _settings(RecorderSettings).archive_dir
    books = archive_books(archive_dir, begin, finish)
    if not books.markets or not books.frames:
        fail(f"no archived windows with md.book records in {archive_dir} for {books_from} to {books_to}")
    return build_replay_books(books, seed=seed, speed=speed)


def _serve_simulator(
    port: int,
    scenario: str,
    speed: float,
    seed: int,
    books_from: str | None = None,
    books_to: str | None = None,
) -> None:
    import contextlib

    # imported here: trading processes never load the simulator
    from polywindow.settings import SimSettings
    from simulator.admin_token import stack_admin_token, token_path
    from simulator.server import run

    settings = _settings(SimSettings)
    built = None
    if books_from is not None or books_to is not None:
        if scenario != "replay-books" or books_from is None or books_to is None:
            fail("--books-from and --books-to go together, with --scenario replay-books")
        built = _archived_books_scenario(books_from, books_to, speed, seed)
    token = stack_admin_token(settings.stack_dir, settings.sim_admin_token)
    where = "POLYWINDOW_SIM_ADMIN_TOKEN" if settings.sim_admin_token else str(token_path(settings.stack_dir))
    base = f"127.0.0.1:{port}"
    typer.echo(f"simulator: {scenario} x{speed:g} seed {seed}; CLOB http://{base}  Gamma http://{base}/gamma")
    typer.echo(
        f"           sockets ws://{base}/ws/market  ws://{base}/ws/user  ws://{base}/rtds  (Ctrl-C stops)"
    )
    typer.echo(f"           Binance klines http://{base}/binance  admin /_admin (token: {where})")
    # SIGTERM takes Ctrl-C's path (uvicorn's graceful shutdown, then asyncio's own interrupt), so
    # either ends here with one line instead of a task's KeyboardInterrupt traceback.
    sigterm_as_ctrl_c()
    with contextlib.suppress(KeyboardInterrupt):
        run(port=port, scenario=scenario, speed=speed, seed=seed, admin_token=token, built=built)
    typer.echo("simulator: stopped")


@app.command("sim")
def sim(
    port: int | None = SIM_PORT,
    scenario: str = SIM_SCENARIO,
    speed: float = SIM_SPEED,
    seed: int = SIM_SEED,
    books_from: str | None = SIM_BOOKS_FROM,
    books_to: str | None = SIM_BOOKS_TO,
) -> None:
    """The local Polymarket stand-in: CLOB REST and sockets, Gamma, RTDS, on 127.0.0.1."""
    _serve_simulator(_free_sim_port(port), scenario, speed, seed, books_from, books_to)


UP_ONLY_SIM = typer.Option(False, "--sim-only", help="Serve only the simulator after the stack.")


def _sim_trader() -> dict[str, str]:
    """A throwaway key for the DRY_RUN executor on the simulator (it signs, never posts), unless one is set."""
    import os
    import secrets

    if os.environ.get("POLY_PRIVATE_KEY"):
        return {}
    return {"POLY_PRIVATE_KEY": "0x" + secrets.token_hex(32)}


@app.command("up")
def up(
    port: int | None = SIM_PORT,
    scenario: str = SIM_SCENARIO,
    speed: float = SIM_SPEED,
    seed: int = SIM_SEED,
    sim_only: bool = UP_ONLY_SIM,
) -> None:
    """What `make run` starts: the stack and migrations, then the simulator, and once it answers the
    feeds and the archive recorder, as child processes (Ctrl-C or SIGTERM stops them all and exits 0;
    `make stack-down` stops the stack)."""
    import os

    from polywindow.processes import (
        Child,
        ProcessGroup,
        sigterm_as_interrupt,
        simulator_answers,
        simulator_env,
        wait_until,
    )
    from polywindow.surface import answers, demo_start, demo_strategies, exited, surface

    try:
        settings = check_every_process()  # what a child would refuse, refused before any starts
    except SettingsError as exc:
        fail(str(exc))
    chosen = _free_sim_port(port)
    _stack_up(settings)
    if sim_only:
        _serve_simulator(chosen, scenario, speed, seed)
        return
    group = ProcessGroup()
    sigterm_as_interrupt()
    try:
        sim_args = ("sim", "--port", str(chosen), "--scenario", scenario, "--speed", f"{speed:g}")
        sim_proc = group.start(Child("sim", (*sim_args, "--seed", str(seed)), {}))
        why = wait_until(
            lambda: simulator_answers(chosen), lambda: sim_proc.poll() is not None, settings.startup_timeout_s
        )
        if why is not None:
            group.stop()
            fail(
                f"the simulator on port {chosen} {why} (code {sim_proc.returncode}); feeds, record and sink not started"
            )
        # The demo trades within a minute: the flow, the executor and the API start first and the
        # controls are set before any market data exists, then feeds. (The canary decides once per
        # window: a decision on a backlog read with the migration's PAUSE, or with controls newer
        # than the data, is a rejection that uses the window up.)
        ops = surface(load(DashboardSettings))  # the API and the dashboard share one token
        group.start(Child("flow", ("flow",), {**simulator_env(chosen), **demo_strategies(os.environ)}))
        group.start(
            Child("execute", ("execute", "--mode", "DRY_RUN"), {**simulator_env(chosen), **_sim_trader()})
        )
        api_proc = group.start(Child("api", ("api",), ops.env))
        typer.echo(demo_start(ops, partial(exited, api_proc), settings.startup_timeout_s))
        group.start(Child("feeds", ("feeds",), simulator_env(chosen)))
        group.start(Child("record", ("record",), {}))
        group.start(Child("sink", ("sink",), {}))
        group.start(Child("watch", ("watch",), {}))
        dash_proc = group.start(Child("dashboard", ("dashboard",), ops.env))
        typer.echo(
            "running: sim, feeds, record, sink, flow, execute, watch, api, dashboard (Ctrl-C stops them)"
        )
        wait_until(
            partial(answers, f"{ops.dashboard_url}/_stcore/health"),
            partial(exited, dash_proc),
            settings.startup_timeout_s,
        )
        typer.echo(f"dashboard: {ops.dashboard_url}")
        typer.echo(f"api: {ops.api_url} (OpenAPI at {ops.api_url}/docs)")
        code, why = group.wait()
    except KeyboardInterrupt:
        code, why = group.stopped()
    typer.echo(f"polywindow up: {why}")
    raise typer.Exit(code)


@app.command("record")
def record() -> None:
    """Archive every md.* event as received (Parquet by topic and UTC day) until Ctrl-C or SIGTERM."""
    import signal
    import threading

    from confluent_kafka import Consumer

    from connectors.kafka import EventProducer, consumer_config
    from core.topics import TOPICS
    from sinks.archive import ArchiveWriter
    from sinks.archive_recorder import Recorder

    settings = _settings(RecorderSettings)
    endpoints = _reach(settings, postgres=False)
    client = {**settings.kafka_client(), "auto.offset.reset": "error"}
    consumer = Consumer(
        consumer_config(
            endpoints.kafka_bootstrap, "archive", embedded=endpoints.kafka_embedded, client_config=client
        )
    )
    producer = EventProducer(endpoints.kafka_bootstrap, settings.kafka_client())

    def alert(event: Alert) -> None:
        producer.produce("ops.alerts", event)
        producer.flush()

    writer = ArchiveWriter(
        settings.archive_dir, roll_rows=settings.archive_roll_rows, roll_s=settings.archive_roll_s
    )
    topics = [t.name for t in TOPICS if t.name.startswith("md.")]
    recorder = Recorder(
        consumer, topics, writer, alert, start=settings.archive_start, batch_size=settings.archive_batch_size
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    typer.echo(f"recording {', '.join(topics)} into {settings.archive_dir} (group archive)")
    try:
        recorder.run(stop.is_set)
    finally:
        s = recorder.stats
        typer.echo(
            f"record: stopped, {s.archived} archived, {s.malformed} malformed, "
            f"{s.lost_records} lost in {s.loss_events} gap(s), {s.commit_failures} commit(s) retried"
        )


@app.command("sink")
def sink() -> None:
    """Write what is raised on the ops topics to PostgreSQL (every ops.alerts alert into `alerts`, once),
    until Ctrl-C or SIGTERM."""
    import signal
    import threading

    from confluent_kafka import Consumer

    from connectors.kafka import EventProducer, consumer_config
    from core.models import Quarantined
    from sinks.postgres.alert_table import AlertTableSink

    settings = _settings(AlertSettings)
    endpoints = _reach(settings)
    try:
        migrate(endpoints.database_url)
    except MigrationError as exc:
        fail(str(exc))
    notifier = _notifier(settings, endpoints.database_url)
    consumer = Consumer(
        consumer_config(
            endpoints.kafka_bootstrap,
            "sink-alerts",
            embedded=endpoints.kafka_embedded,
            client_config=settings.kafka_client(),
        )
    )
    producer = EventProducer(endpoints.kafka_bootstrap, settings.kafka_client())

    def quarantine(event: Quarantined) -> None:
        producer.produce("ops.quarantine", event)
        producer.flush()

    alert_sink = AlertTableSink(
        consumer, endpoints.database_url, quarantine, deliver=None if notifier is None else notifier.notify
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    where = f", delivered to {len(settings.alert_urls)} alert URL(s)" if notifier else ""
    typer.echo(f"sink: ops.alerts -> alerts (group sink-alerts){where}")
    try:
        alert_sink.run(stop.is_set)
    finally:
        s = alert_sink.stats
        typer.echo(
            f"sink: stopped, {s.consumed} consumed, {s.inserted} new alert rows, {s.quarantined} quarantined"
        )


def _notifier(settings: AlertSettings, database_url: str) -> Notifier | None:
    """The apprise notifier for POLYWINDOW_ALERT_URLS (None when there are none); its pool lives as
    long as the process."""
    from psycopg_pool import ConnectionPool

    from sinks.alerts import Notifier
    from sinks.postgres.alert_delivery import AlertDeliveryLog

    if not settings.alert_urls:
        return None
    pool = ConnectionPool(database_url, min_size=1, max_size=2, open=True)
    try:
        return Notifier(settings.alert_urls, AlertDeliveryLog(pool))
    except ValueError as exc:
        pool.close()
        fail(f"POLYWINDOW_ALERT_URLS=<hidden>: {exc}")


FEEDS_ONLY = typer.Option(
    "gamma,market,user,rtds,klines", "--only", help="Comma-separated subset of connectors to run."
)


@app.command("feeds")
def feeds(only: str = FEEDS_ONLY) -> None:
    """Run the market-data connectors (Gamma, market and user channels, RTDS, Binance klines) until Ctrl-C or SIGTERM."""
    import asyncio
    import contextlib

    from polywindow.settings import FeedSettings
    from polywindow.wiring import CONNECTORS, Feeds

    chosen = {c.strip() for c in only.split(",") if c.strip()}
    if not chosen or not chosen <= set(CONNECTORS):
        fail(f"--only takes a comma-separated subset of {', '.join(CONNECTORS)}, got {only!r}")
    settings = _settings(FeedSettings)
    endpoints = _reach(settings)
    try:
        migrate(endpoints.database_url)
    except MigrationError as exc:
        fail(str(exc))
    from connectors.clock import ClockUnavailable

    try:
        runner = Feeds(settings, endpoints.kafka_bootstrap, endpoints.database_url, chosen)
    except ClockUnavailable as exc:
        fail(f"POLYWINDOW_CLOCK=simulator: {exc}")
    typer.echo(f"feeds: {', '.join(sorted(chosen))} -> kafka {endpoints.kafka_bootstrap}")
    # SIGTERM (a supervisor) takes Ctrl-C's path: asyncio cancels the main task (connector tasks
    # cancelled, producer flushed) instead of a KeyboardInterrupt raised inside some task.
    sigterm_as_ctrl_c()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(runner.run())
    finally:
        runner.close()
    typer.echo("feeds: stopped")


SETTLE_MARKETS = typer.Option(..., "--markets", help="Markets file (JSONL.gz, fixture-day format).")
SETTLE_ORACLE = typer.Option(..., "--oracle", help="Oracle tick file (CSV.gz, fixture-day format).")
SETTLE_TOPIC = typer.Option("crypto_prices_chainlink", help="RTDS topic the oracle file was recorded from.")
SETTLE_SYMBOL = typer.Option("btc/usd", help="Symbol the oracle file holds.")


@app.command("settle")
def settle(
    markets: Path = SETTLE_MARKETS,
    oracle: Path = SETTLE_ORACLE,
    oracle_topic: str = SETTLE_TOPIC,
    symbol: str = SETTLE_SYMBOL,
) -> None:
    """Resolve recorded windows by each market's own rule; exit 1 if any decided one disagrees."""
    from connectors.fixture_files import load_markets, load_prices
    from core.settle_report import settle_recorded, summarize

    for path in (markets, oracle):
        if not path.is_file():
            fail(f"no such file: {path}")
    try:
        windows, ticks = load_markets(markets), load_prices(oracle)
    except (OSError, ValueError, KeyError) as exc:
        fail(f"cannot read the input files: {type(exc).__name__}: {exc}")
    rows = settle_recorded(windows, ticks, oracle_topic=oracle_topic, symbol=symbol)
    marks = {True: "agree", False: "DISAGREE", None: "-"}
    for r in rows:
        recorded = r.recorded.value if r.recorded else "-"
        line = f"{r.slug}  strike={r.strike or '-'}  close={r.close or '-'}  ours={r.ours.value}"
        line += f"  recorded={recorded}  {marks[r.agrees]}"
        typer.echo(f"{line}  ({r.reason})" if r.reason else line)
    s = summarize(rows)
    typer.echo(
        f"windows {s.windows}: decided {s.decided}, agreeing {s.agreeing}, "
        f"disagreeing {s.disagreeing}, undecidable {s.undecidable}"
    )
    if s.disagreeing:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
