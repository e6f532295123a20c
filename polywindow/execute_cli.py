"""`polywindow execute`: the execution consumer's construction (the order manager in one mode, its
safety, exits, kill switch, redemptions and assertions around it)."""

from __future__ import annotations

import typer

from polywindow.cli_common import fail, reach
from polywindow.settings import SettingsError, load
from sinks.postgres.migrate import MigrationError, migrate

EXECUTE_MODE = typer.Option(
    None, "--mode", help="LIVE, DRY_RUN, PAPER or BACKTEST (default: POLYWINDOW_MODE)."
)
EXECUTE_RUN = typer.Option(None, "--run-id", help="BACKTEST: the run the rows belong to.")
EXECUTE_OVERRIDE = typer.Option(
    None, "--override-checklist", help="LIVE on a real venue with the checklist incomplete: why (audited)."
)


def execute(
    mode: str | None = EXECUTE_MODE,
    run_id: str | None = EXECUTE_RUN,
    override_checklist: str | None = EXECUTE_OVERRIDE,
) -> None:
    """The execution consumer: trade.intents (group `execute`) through the order manager in one
    mode, rows to PostgreSQL, offsets committed after them; until Ctrl-C or SIGTERM."""
    import os
    import signal
    import socket
    import threading
    import time

    import psycopg
    from confluent_kafka import Consumer
    from psycopg_pool import ConnectionPool

    from connectors.clock import ClockUnavailable, SystemClock
    from connectors.kafka import EventProducer, new_consumer
    from connectors.polymarket.clob import PostFailed
    from core.enums import TradingMode
    from core.execution_guards import ExecutionLimits
    from core.fees import FeeSchedule
    from core.models import Event
    from execution.assertion_runner import AssertionRunner, ReplayClock, backtest_runner
    from execution.collateral_check import CollateralNotReady
    from execution.consumer import IntentConsumer
    from execution.executor_safety import ExecutorSafety
    from execution.exits import ExitManager
    from execution.monitor import BookMonitor
    from execution.reconcile import Reconciler
    from execution.tick_snapshot import ExecutorSnapshot
    from execution.trader_lock import LockLost, LockRefused, TraderLock
    from execution.venue_heartbeat import VenueHeartbeat
    from polywindow.execution_wiring import FixedMarket, build_manager, connect_venue, user_confirmations
    from polywindow.flow_wiring import build_clock
    from polywindow.kill_wiring import build_kill_watch, build_redemptions
    from polywindow.settings import ExecuteSettings
    from sinks.postgres.executor_records import orders_may_rest

    overrides = {"mode": TradingMode(mode.upper())} if mode else {}
    try:
        settings = load(ExecuteSettings, **overrides)
    except (SettingsError, ValueError) as exc:
        fail(str(exc))
    chosen = settings.mode
    if chosen is TradingMode.BACKTEST and not run_id:
        fail("--mode BACKTEST needs --run-id")
    endpoints = reach(settings)
    try:
        migrate(endpoints.database_url)
    except MigrationError as exc:
        fail(str(exc))
    if (
        chosen is TradingMode.LIVE
    ):  # issue 14: a real venue only once the pre-deployment checklist is complete
        from polywindow.campaign_gate import enforce_checklist

        gate = enforce_checklist(endpoints.database_url, settings.clob_url, override_checklist)
        if not gate.allowed:
            fail(gate.reason)
        if gate.overridden:
            typer.echo(f"execute: {gate.reason} (audited)", err=True)
    venue = None
    if chosen is not TradingMode.BACKTEST:
        try:
            key = settings.private_key
            if key is None:  # PAPER reads books only: a throwaway key for the client's L1 calls
                import secrets

                from pydantic import SecretStr

                key = SecretStr("0x" + secrets.token_hex(32))
            venue = connect_venue(settings.clob_url, key)
        except PostFailed as exc:
            fail(f"the venue at {settings.clob_url} refused the API credentials: {exc}")
    conn = psycopg.connect(endpoints.database_url, autocommit=True)

    live = chosen is TradingMode.LIVE
    lock = None
    if chosen is not TradingMode.BACKTEST:  # backtest runs may go side by side: they trade nothing
        holder = f"{socket.gethostname()}:{os.getpid()}:{chosen.value}"
        lock = TraderLock(
            endpoints.database_url, holder, "trader" if live else f"trader-{chosen.value.lower()}"
        )
    client = venue.client if venue is not None and live else None
    reconciler = None if client is None else Reconciler(conn, client, chosen, "execute")
    replay = ReplayClock() if chosen is TradingMode.BACKTEST else None  # BACKTEST: event time
    try:  # the others: the system clock, or the simulator's scenario time (POLYWINDOW_CLOCK)
        clock = build_clock(settings)
    except ClockUnavailable as exc:
        conn.close()
        fail(f"POLYWINDOW_CLOCK=simulator: {exc}")
    now = clock.now
    # Cadences (heartbeat, assertions, reconciliation) on the same time scale as the times they
    # are judged by: scenario seconds when the simulator's clock is followed at any speed.
    seconds = time.monotonic if isinstance(clock, SystemClock) else lambda: now().timestamp()
    safety = ExecutorSafety(
        conn,
        replay.now if replay is not None else now,
        monotonic=replay.seconds if replay is not None else seconds,
        lock=lock,
        reconciler=reconciler,
        allowance=client,
        heartbeat=None if client is None else VenueHeartbeat(client, settings.venue_heartbeat_s),
        may_rest=lambda: orders_may_rest(conn, chosen),
        reconcile_s=settings.reconcile_s,
    )
    listener = None
    if client is not None and venue is not None:  # LIVE: orders confirmed by the user channel too
        listener = user_confirmations(venue, settings.clob_url, settings.user_ws_url, safety.reconcile_soon)
        listener.start()

    def live_start() -> None:
        """The trader lock, LIVE's collateral allowance; LIVE starts paused."""
        safety.start()
        if live:
            from sinks.postgres.execution import ExecutionStore

            ExecutionStore(conn, chosen).pause_trading(now(), "execute:LIVE start")

    manager = build_manager(
        chosen,
        conn,
        venue=venue,
        market=FixedMarket(settings.backtest_tick, FeeSchedule(settings.backtest_fee_rate)),
        paper_balance_usd=settings.paper_balance_usd,
        run_id=run_id if chosen is TradingMode.BACKTEST else None,
        limits=ExecutionLimits(settings.max_position_usd, settings.daily_drawdown_usd),
        confirm_s=settings.confirm_s,
        confirm_poll_s=settings.confirm_poll_s,
        pushed=listener.pushed if listener is not None else None,
        startup_checks=live_start,
        gate=safety.gate,
        now=now,
    )
    if reconciler is not None:
        reconciler.apply = manager.apply_repair  # repairs settle orders through the one order manager
    if listener is not None:
        safety.confirm = manager.settle_unknown  # an UNKNOWN order the user channel speaks of
    try:
        manager.start()
    except (LockRefused, CollateralNotReady) as exc:
        safety.stop()
        conn.close()
        fail(str(exc))
    safety.reconcile()  # after the orders left unsettled are settled, before any intent is taken
    exits = ExitManager(manager)
    pool = None
    if replay is not None:  # the assertions on the replay's event time, stored under the run id
        assert run_id is not None
        manager.clock = replay.follow(manager.clock)
        pool = ConnectionPool(endpoints.database_url, min_size=1, max_size=1, open=True)
        replayed = ExecutorSnapshot(
            conn,
            chosen,
            replay.now,
            lambda: safety.heartbeat_at,
            manager.balance,
            settings.max_position_usd,
            run_id=run_id,
        )
        safety.assertions = backtest_runner(replay, replayed.snapshot, pool, run_id)
    else:
        pool = ConnectionPool(endpoints.database_url, min_size=1, max_size=1, open=True)
        events = EventProducer(endpoints.kafka_bootstrap, settings.kafka_client())

        def publish(topic: str, event: Event) -> None:
            events.produce(topic, event)
            events.poll(0)

        source = ExecutorSnapshot(
            conn,
            chosen,
            now,
            lambda: safety.heartbeat_at,
            manager.balance,
            settings.max_position_usd,
            venue=client,
        )
        safety.assertions = AssertionRunner(
            source.snapshot, pool, publish, lambda alert: publish("ops.alerts", alert)
        )
    consumer = new_consumer(
        endpoints.kafka_bootstrap,
        settings.group_id,
        ["trade.intents"],
        embedded=endpoints.kafka_embedded,
        client_config=settings.kafka_client(),
    )
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    import uuid

    def monitor_consumer(topic: str, start: str) -> Consumer:
        group = (
            f"{settings.group_id}-monitor-{uuid.uuid4().hex[:8]}"  # nothing committed: a new group each start
        )
        client = {**settings.kafka_client(), "auto.offset.reset": start}
        return new_consumer(
            endpoints.kafka_bootstrap, group, [topic], embedded=endpoints.kafka_embedded, client_config=client
        )

    watched = [monitor_consumer("md.windows", "earliest"), monitor_consumer("md.book", "latest")]
    monitor = BookMonitor(watched, exits, manager.store.monitoring_tokens)
    backtest_run = run_id if chosen is TradingMode.BACKTEST else None
    sweep = build_redemptions(
        conn,
        chosen,
        exits,
        now,
        venue=venue,
        private_key=settings.private_key,
        rpc_url=settings.rpc_url or f"{settings.clob_url.rstrip('/')}/rpc",
        run_id=backtest_run,
    )
    safety.redeem = None if sweep is None else sweep.run
    kill = build_kill_watch(
        conn,
        manager,
        exits,
        now,
        venue=venue,
        book_bids=monitor.bids,
        window_end=monitor.window_end,
        run_id=backtest_run,
    )
    safety.kill = kill.run
    typer.echo(
        f"execute: {chosen.value}, trade.intents (group {settings.group_id}), exits on md.book (Ctrl-C stops)"
    )
    runner = IntentConsumer(consumer, manager)
    lost: LockLost | None = None
    try:
        while not stop.is_set():
            try:
                safety.tick()
            except LockLost as exc:
                lost = exc
                break
            if kill.accepting_intents:  # EMERGENCY: no more intents
                runner.poll_once(0.02)
            monitor.poll_once()
    finally:
        safety.stop()
        if listener is not None:
            listener.stop()
        for each in (consumer, *watched):
            each.close()
        if pool is not None:
            pool.close()
        conn.close()
        typer.echo(f"execute: stopped, {runner.executed} intents executed")
    if lost is not None:
        fail(f"execute: {lost}: stopped trading")
