"""`polywindow api` (the control API) and `polywindow controls` (its shell client): construction only.

`api` builds the pool, the Kafka producer (ctl.controls, ops.assertions), the event pump behind
the websocket and the app, then serves it with uvicorn; `controls` reads and changes the runtime
controls through the API, with the same token, so the shell takes the same path as every door.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import typer

from polywindow.settings import ApiSettings, FlowSettings, SettingsError, load

controls_app = typer.Typer(no_args_is_help=True, help="Read and change the runtime controls through the API.")


def _settings() -> ApiSettings:
    from polywindow.cli_common import fail

    try:
        return load(ApiSettings)
    except SettingsError as exc:
        fail(str(exc))


def serve_api() -> None:
    """The control API on POLYWINDOW_API_HOST:POLYWINDOW_API_PORT (127.0.0.1:8780) until Ctrl-C or SIGTERM."""
    import contextlib

    import uvicorn
    from confluent_kafka import Consumer

    from api.app import ApiDeps, create_app
    from api.live import LiveFeed, LivePump
    from api.stream import Broadcaster, KafkaPump
    from connectors.kafka import EventProducer, consumer_config
    from core.live_board import LiveBoard
    from core.models import Event
    from core.strategies import build_strategy
    from polywindow.cli_common import fail
    from polywindow.cli_common import reach as _reach
    from polywindow.processes import port_taken
    from sinks.postgres.migrate import MigrationError, migrate
    from sinks.postgres.statement_timeout import timeout_pool

    settings = _settings()
    try:
        flow = load(FlowSettings)  # the strategies the flow runs: the live view asks the same ones
    except SettingsError as exc:
        fail(str(exc))
    if settings.api_token is None:
        fail(
            "POLYWINDOW_API_TOKEN is not set: the API does not start without a bearer token (16+ characters)"
        )
    if settings.api_host == "127.0.0.1" and port_taken(settings.api_port):
        fail(f"port {settings.api_port} on 127.0.0.1 is taken; choose another with POLYWINDOW_API_PORT")
    endpoints = _reach(settings)
    try:
        migrate(endpoints.database_url)
    except MigrationError as exc:
        fail(str(exc))
    producer = EventProducer(endpoints.kafka_bootstrap, settings.kafka_client())

    def publish(topic: str, event: Event) -> None:
        producer.produce(topic, event)
        producer.flush(5)

    client = {**settings.kafka_client(), "auto.offset.reset": "latest"}
    consumer = Consumer(
        consumer_config(
            endpoints.kafka_bootstrap,
            f"api-{uuid.uuid4().hex[:8]}",
            embedded=endpoints.kafka_embedded,
            client_config=client,
        )
    )
    broadcaster = Broadcaster()
    pump = KafkaPump(consumer, broadcaster)
    stop = threading.Event()
    pump_thread = threading.Thread(target=pump.run, args=(stop.is_set,), name="api-event-pump", daemon=True)
    live = LiveFeed(LiveBoard(tuple(build_strategy(n, p) for n, p in flow.strategies.items())))
    live_consumer = Consumer(
        consumer_config(  # md.* from the earliest, as the flow reads them: books from their snapshots
            endpoints.kafka_bootstrap,
            f"api-live-{uuid.uuid4().hex[:8]}",
            embedded=endpoints.kafka_embedded,
            client_config={**settings.kafka_client(), "auto.offset.reset": "earliest"},
        )
    )
    live_thread = threading.Thread(
        target=LivePump(live_consumer, live).run, args=(stop.is_set,), name="api-live-pump", daemon=True
    )
    pool = timeout_pool(  # a query cancelled by the statement timeout is a db.statement_timeout alert
        endpoints.database_url,
        process="api",
        timeout_ms=settings.db_statement_timeout_ms,
        report=lambda alert: publish("ops.alerts", alert),
        now=lambda: datetime.now(UTC),
        min_size=1,
        max_size=10,
        timeout=5,
    )
    with pool:
        app = create_app(
            ApiDeps(pool=pool, token=settings.api_token, publish=publish, broadcaster=broadcaster, live=live)
        )
        pump_thread.start()
        live_thread.start()
        typer.echo(f"api: http://{settings.api_host}:{settings.api_port} (OpenAPI at /docs; Ctrl-C stops)")
        # SIGTERM takes Ctrl-C's path: uvicorn shuts down gracefully, then re-raises the signal it
        # caught; as SIGINT that is a KeyboardInterrupt ending here, so the process says "stopped".
        from polywindow.processes import sigterm_as_ctrl_c

        sigterm_as_ctrl_c()
        try:
            with contextlib.suppress(KeyboardInterrupt):
                uvicorn.run(
                    app,
                    host=settings.api_host,
                    port=settings.api_port,
                    log_level="warning",
                    ws="websockets-sansio",
                )
        finally:
            stop.set()
            pump_thread.join(timeout=5)
            live_thread.join(timeout=5)
            producer.close(5)
    typer.echo("api: stopped")


def _call(method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    from polywindow.cli_common import fail

    settings = _settings()
    headers = {}
    if method == "POST":
        if settings.api_token is None:
            fail("POLYWINDOW_API_TOKEN is not set: changing a control needs the API's token")
        headers["Authorization"] = f"Bearer {settings.api_token.get_secret_value()}"
    try:
        answer = httpx.request(method, f"{settings.api_url}{path}", json=body, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        fail(
            f"the API at {settings.api_url} does not answer ({type(exc).__name__}); is `polywindow api` running?"
        )
    if answer.status_code >= 400:
        detail = (
            answer.json().get("detail") if "json" in answer.headers.get("content-type", "") else answer.text
        )
        fail(f"the API refused ({answer.status_code}): {detail}", code=1)
    return answer.json()


@controls_app.command("show")
def controls_show() -> None:
    """The six runtime controls, as the table holds them."""
    for name, row in sorted(_call("GET", "/api/controls").items()):
        typer.echo(f"{name:<22} {row['value']:<30} {row['updated_by']:<12} {row['updated_at']}")


WHY = typer.Option(..., "--why", help="Why (recorded in the audit log).")
WHO = typer.Option(None, "--who", help="Who (recorded in the audit log) [default: $USER].")


@controls_app.command("set")
def controls_set(name: str, value: str, why: str = WHY, who: str | None = WHO) -> None:
    """Set one control: validated, written, published on ctl.controls and audited, through the API."""
    import getpass

    actor = who or getpass.getuser()
    changed = _call("POST", "/api/controls", {"name": name, "value": value, "who": actor, "why": why})
    typer.echo(f"{changed['name']}: {changed['previous']} -> {changed['value']} (by {actor})")
