"""`polywindow flow` and `polywindow replay`: the trading flow live, and backtests through it
(construction only: polywindow.flow_wiring builds, flows/ run)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from polywindow.cli_common import fail, reach, settings_of
from sinks.postgres.migrate import MigrationError, migrate

__all__ = ["flow", "replay_cmd", "utc_arg"]


FLOW_WORKERS = typer.Option(0, "-w", "--workers", help="Bytewax workers (0: POLYWINDOW_FLOW_WORKERS).")
FLOW_PROCESSES = typer.Option(
    1, "-p", "--processes", help="Processes on this host (this one is process 0 and starts the others)."
)
FLOW_ADDRESSES = typer.Option(
    "",
    "--addresses",
    envvar="POLYWINDOW_FLOW_ADDRESSES",
    help="host:port of every process of a cluster, comma-separated (processes on several hosts).",
)
FLOW_PROCESS_ID = typer.Option(
    0, "--process-id", envvar="POLYWINDOW_FLOW_PROCESS_ID", help="This process's index in --addresses."
)
FLOW_RECOVERY_DIR = typer.Option(
    None, "--recovery-dir", help="Bytewax recovery store: a killed run started again on it resumes."
)
FLOW_EPOCH_S = typer.Option(10.0, "--epoch-s", min=0.01, help="Seconds between two recovery snapshots.")


def _cluster(processes: int, addresses: str, process_id: int) -> tuple[tuple[str, ...], int]:
    """This process's cluster: given addresses, or N loopback ones for -p N (then this is process 0)."""
    from polywindow.flow_wiring import local_addresses

    given = tuple(a.strip() for a in addresses.split(",") if a.strip())
    if given:
        if not 0 <= process_id < len(given):
            fail(f"--process-id {process_id} is not an index of --addresses ({len(given)} given)")
        return given, process_id
    if processes < 1:
        fail("-p/--processes must be at least 1")
    return (local_addresses(processes) if processes > 1 else ()), 0


def flow(
    workers: int = FLOW_WORKERS,
    processes: int = FLOW_PROCESSES,
    addresses: str = FLOW_ADDRESSES,
    process_id: int = FLOW_PROCESS_ID,
) -> None:
    """The trading flow: md.* topics, ctl.controls and the runtime_controls table in; trade.signals,
    trade.intents, trade.rejections and ops.quarantine out; until Ctrl-C or SIGTERM."""
    from connectors.clock import ClockUnavailable
    from core.enums import TradingMode
    from polywindow.flow_wiring import build_clock, run_live_flow, run_plan, start_peers, stop_peers
    from polywindow.settings import FlowSettings
    from polywindow.strategy_cli import require_live_ready

    settings = settings_of(FlowSettings)
    endpoints = reach(settings)
    try:
        migrate(endpoints.database_url)
        clock = build_clock(settings)
    except (MigrationError, ClockUnavailable) as exc:
        fail(str(exc))
    if settings.mode is TradingMode.LIVE:  # every strategy registered, with an expectation (issue 14)
        require_live_ready(endpoints.database_url, settings.strategies)
    count = workers or settings.workers
    cluster, index = _cluster(processes, addresses, process_id)
    plan = run_plan(count, cluster, index)
    typer.echo(
        f"flow: {', '.join(settings.strategies)} in {settings.mode.value}, {count} worker(s)"
        f" in process {index} of {max(len(cluster), 1)}; kafka {endpoints.kafka_bootstrap}, market data"
        f" from {settings.market_data_start} (Ctrl-C stops)"
    )
    peers = start_peers(cluster) if cluster and not addresses else []
    try:
        run_live_flow(settings, endpoints, plan, clock, peers)
    finally:
        for peer in peers:
            peer.terminate()
        stop_peers(peers)
    typer.echo("flow: stopped")


REPLAY_FROM = typer.Option(
    ..., "--from", help="Start of the period (ISO 8601 with offset, e.g. 2026-09-28T09:00Z)."
)
REPLAY_TO = typer.Option(..., "--to", help="End of the period (exclusive, ISO 8601 with offset).")
REPLAY_STRATEGY = typer.Option(
    None, "--strategy", help="Run only this strategy (default: POLYWINDOW_FLOW_STRATEGIES)."
)
REPLAY_PARAMS = typer.Option("{}", "--params", help="The strategy's parameters as JSON (with --strategy).")
REPLAY_KEEP_GAPS = typer.Option(
    False, "--keep-gaps", help="Keep windows that had a feed gap (and mark them)."
)
REPLAY_INSTRUMENTS = typer.Option(
    "", "--instruments", help="Allowed instruments, comma-separated (default: all)."
)
REPLAY_INTENTS_OUT = typer.Option(None, "--intents-out", help="Write the intents as JSON lines here.")
REPLAY_OUT_DIR = typer.Option(
    None,
    "--out-dir",
    envvar="POLYWINDOW_REPLAY_OUT_DIR",
    help="Outputs as JSON lines per worker (default: <recovery dir>/out; a temporary one for -p).",
)


def utc_arg(text: str, flag: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(f"{flag}: not an ISO 8601 time: {text!r}")
    if value.tzinfo is None:
        fail(f"{flag}: give a UTC offset (e.g. 2026-09-28T09:00Z): {text!r}")
    return value.astimezone(UTC)


def replay_cmd(
    start: str = REPLAY_FROM,
    end: str = REPLAY_TO,
    strategy: str | None = REPLAY_STRATEGY,
    params: str = REPLAY_PARAMS,
    keep_gaps: bool = REPLAY_KEEP_GAPS,
    instruments: str = REPLAY_INSTRUMENTS,
    workers: int = FLOW_WORKERS,
    intents_out: Path | None = REPLAY_INTENTS_OUT,
    processes: int = FLOW_PROCESSES,
    addresses: str = FLOW_ADDRESSES,
    process_id: int = FLOW_PROCESS_ID,
    recovery_dir: Path | None = FLOW_RECOVERY_DIR,
    epoch_s: float = FLOW_EPOCH_S,
    out_dir: Path | None = REPLAY_OUT_DIR,
) -> None:
    """Backtest: the archived period through the trading flow in BACKTEST (event time as the clock,
    fixed RUN controls), windows with a feed gap left out; prints a summary per strategy."""
    import json
    import shutil
    import tempfile

    from core.backtest import all_instruments, summarize
    from core.strategies import build_strategy
    from polywindow.flow_wiring import replay_archive, run_plan, start_peers, stop_peers
    from polywindow.settings import FlowSettings

    settings = settings_of(FlowSettings)
    begin, finish = utc_arg(start, "--from"), utc_arg(end, "--to")
    if begin >= finish:
        fail("--from must be before --to")
    strategies = dict(settings.strategies)
    if strategy is None and params.strip() != "{}":
        fail("--params needs --strategy (the strategy they are for)")
    if strategy is not None:
        try:
            strategies = {strategy: json.loads(params)}
            build_strategy(strategy, strategies[strategy])
        except (KeyError, ValueError) as exc:
            fail(f"--strategy/--params: {exc}")
    allowed = frozenset(i.strip() for i in instruments.split(",") if i.strip()) or all_instruments()
    endpoints = reach(settings, kafka=False)
    cluster, index = _cluster(processes, addresses, process_id)
    if recovery_dir is not None and cluster:
        fail("--recovery-dir works with one process only (use -w for more workers)")
    if out_dir is None and recovery_dir is not None:
        out_dir = recovery_dir / "out"
    scratch = out_dir is None and bool(cluster)
    if scratch:
        out_dir = Path(tempfile.mkdtemp(prefix="polywindow-replay-"))
    plan = run_plan(
        workers or settings.workers, cluster, index, recovery_dir and recovery_dir / "state", epoch_s
    )
    peers = (
        start_peers(cluster, {"POLYWINDOW_REPLAY_OUT_DIR": str(out_dir)}) if cluster and not addresses else []
    )
    try:
        result = replay_archive(
            settings,
            endpoints.database_url,
            begin,
            finish,
            strategies=strategies,
            instruments=allowed,
            keep_gaps=keep_gaps,
            plan=plan,
            out_dir=out_dir,
        )
    except (ValueError, RuntimeError) as exc:
        fail(str(exc))
    if any(code != 0 for code in stop_peers(peers)):
        fail("a replay process failed")
    if index != 0:
        typer.echo(f"replay: process {index} done, outputs in {out_dir}")
        return
    typer.echo(f"replay {begin.isoformat()} .. {finish.isoformat()}: {result.events} archived events")
    if result.resumed_at:
        typer.echo(f"resumed after archived event {result.resumed_at} (from {recovery_dir})")
    if result.excluded_windows:
        typer.echo(f"left out (feed gap): {', '.join(sorted(result.excluded_windows))}")
    if result.gap_windows_kept:
        typer.echo(f"kept despite a feed gap (--keep-gaps): {', '.join(sorted(result.gap_windows_kept))}")
    typer.echo(f"{'strategy':<20} {'signals':>8} {'intents':>8}  rejections by rule")
    gap_kept = frozenset(result.gap_windows_kept)
    for row in summarize(result.signals, result.intents, result.rejections, gap_kept):
        rules = ", ".join(f"{rule}={n}" for rule, n in sorted(row.rejections.items())) or "-"
        marked = f"  ({row.intents_in_gap_windows} in gap windows)" if row.intents_in_gap_windows else ""
        typer.echo(f"{row.strategy:<20} {row.signals:>8} {row.intents:>8}  {rules}{marked}")
    if result.quarantined:
        typer.echo(f"quarantined: {len(result.quarantined)}")
    if intents_out is not None:
        intents_out.write_text("".join(i.model_dump_json() + "\n" for i in result.intents))
    if scratch and out_dir is not None:
        shutil.rmtree(out_dir, ignore_errors=True)
