"""Typed settings for the whole process set, from the environment or a git-ignored `.env`.

A bad or missing setting stops start-up with a message naming the environment variable.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from core.enums import TradingMode
from core.universe import known_assets, known_intervals


class SettingsError(Exception):
    """Start-up must stop; the message names the setting and what is wrong with it."""


class LogSettings(BaseSettings):
    """What every `polywindow` command reads first, to configure logging (polywindow/logs.py)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True, populate_by_name=True)

    log_level: str = Field(default="INFO", validation_alias="POLYWINDOW_LOG_LEVEL")

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("expected one of DEBUG, INFO, WARNING, ERROR")
        return value.upper()


class StackSettings(LogSettings):
    """Where the infrastructure is. Unset DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS = the embedded stack."""

    database_url: SecretStr | None = Field(default=None, validation_alias="DATABASE_URL")
    kafka_bootstrap_servers: str | None = Field(default=None, validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    kafka_client_config: dict[str, SecretStr] = Field(
        default_factory=dict,
        validation_alias="KAFKA_CLIENT_CONFIG",
        description="extra librdkafka settings as a JSON object (security.protocol, sasl.*) for a real cluster;"
        " values may be passwords, so none is ever shown (`kafka_client()` unwraps them for the client)",
    )
    stack_dir: Path = Field(default=Path(".stack"), validation_alias="POLYWINDOW_STACK_DIR")
    kafka_engine: Literal["mock", "apache"] = Field(
        default="mock",
        validation_alias="POLYWINDOW_KAFKA",
        description="the embedded Kafka `stack up` runs: librdkafka's mock, or Apache Kafka (`make kafka`)",
    )
    kafka_brokers: int = Field(default=1, ge=1, le=5, validation_alias="POLYWINDOW_KAFKA_BROKERS")
    kafka_netns: bool = Field(
        default=False,
        validation_alias="POLYWINDOW_KAFKA_NETNS",
        description="Apache Kafka brokers each in a network namespace of its own (needs root)",
    )
    startup_timeout_s: float = Field(default=30.0, gt=0, validation_alias="POLYWINDOW_STARTUP_TIMEOUT_S")
    db_statement_timeout_ms: int = Field(
        default=30_000,
        gt=0,
        validation_alias="POLYWINDOW_DB_STATEMENT_TIMEOUT_MS",
        description="statement_timeout of the database pools of the long-running processes; a query cancelled"
        " by it is a db.statement_timeout alert",
    )

    @field_validator("kafka_client_config", mode="before")
    @classmethod
    def _scalars_as_text(cls, value: Any) -> Any:
        """librdkafka takes every value as a string; JSON numbers and booleans are written as such."""
        if not isinstance(value, dict):
            return value
        return {
            k: ("true" if v else "false")
            if isinstance(v, bool)
            else str(v)
            if isinstance(v, int | float)
            else v
            for k, v in value.items()
        }

    def kafka_client(self) -> dict[str, str]:
        """KAFKA_CLIENT_CONFIG in the clear, for the one place a Kafka client is configured."""
        return {k: v.get_secret_value() for k, v in self.kafka_client_config.items()}

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _bootstrap_form(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"expected host:port[,host:port...], got {value!r}")
        return value.strip()

    @field_validator("database_url")
    @classmethod
    def _url_form(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or value.get_secret_value().strip() == "":
            return None
        if not value.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("expected a postgresql:// URL")
        return value


class TraderSettings(StackSettings):
    """Settings of the trading processes; the mode is chosen once, here."""

    mode: TradingMode = Field(default=TradingMode.DRY_RUN, validation_alias="POLYWINDOW_MODE")
    clock: Literal["system", "simulator"] = Field(
        default="system",
        validation_alias="POLYWINDOW_CLOCK",
        description="where 'now' comes from (the flow's controls read time; the executor's order, assertion"
        " and exit times), as for feeds: the system clock, or the simulator's scenario time at any speed",
    )
    clock_url: str = Field(
        default="http://127.0.0.1:8765",
        validation_alias=AliasChoices("POLYWINDOW_CLOCK_URL", "POLYWINDOW_CLOB_URL"),
        description="the simulator whose /_sim/clock is followed",
    )


class RecorderSettings(StackSettings):
    """`polywindow record`: where the md.* archive goes and how often a part is closed (and offsets committed)."""

    archive_dir: Path = Field(default=Path("archive"), validation_alias="POLYWINDOW_ARCHIVE_DIR")
    archive_roll_rows: int = Field(default=50_000, ge=1, validation_alias="POLYWINDOW_ARCHIVE_ROLL_ROWS")
    archive_roll_s: float = Field(default=60.0, gt=0, validation_alias="POLYWINDOW_ARCHIVE_ROLL_S")
    archive_batch_size: int = Field(default=1000, ge=1, validation_alias="POLYWINDOW_ARCHIVE_BATCH_SIZE")
    archive_start: Literal["earliest", "end"] = Field(
        default="earliest",
        validation_alias="POLYWINDOW_ARCHIVE_START",
        description="where a group with no committed offset begins; a committed offset always wins",
    )


class SimSettings(StackSettings):
    """`polywindow sim`: the admin token, else one generated into `<stack dir>/sim-admin.token`."""

    sim_admin_token: SecretStr | None = Field(default=None, validation_alias="POLYWINDOW_SIM_ADMIN_TOKEN")
    sim_port: int = Field(default=8765, ge=1, le=65_535, validation_alias="POLYWINDOW_SIM_PORT")


class FeedSettings(StackSettings):
    """`polywindow feeds`: venue addresses (the simulator's loopback by default), what to follow, limits."""

    clob_url: str = Field(default="http://127.0.0.1:8765", validation_alias="POLYWINDOW_CLOB_URL")
    gamma_url: str = Field(default="http://127.0.0.1:8765/gamma", validation_alias="POLYWINDOW_GAMMA_URL")
    market_ws_url: str = Field(
        default="ws://127.0.0.1:8765/ws/market", validation_alias="POLYWINDOW_MARKET_WS_URL"
    )
    user_ws_url: str = Field(default="ws://127.0.0.1:8765/ws/user", validation_alias="POLYWINDOW_USER_WS_URL")
    rtds_url: str = Field(default="ws://127.0.0.1:8765/rtds", validation_alias="POLYWINDOW_RTDS_URL")
    binance_rest_url: str = Field(
        default="http://127.0.0.1:8765/binance",
        validation_alias="POLYWINDOW_BINANCE_REST_URL",
        description="Binance spot REST base (klines backfill); the real one: https://api.binance.com",
    )
    binance_ws_url: str = Field(
        default="ws://127.0.0.1:8765/binance",
        validation_alias="POLYWINDOW_BINANCE_WS_URL",
        description="Binance spot stream base (kline streams); the real one: wss://stream.binance.com:9443",
    )
    assets: Annotated[list[str], NoDecode] = Field(
        default=["btc", "eth", "sol", "xrp"],
        validation_alias="POLYWINDOW_FEED_ASSETS",
        description="a JSON list or comma-separated: btc,eth",
    )
    intervals_s: Annotated[list[int], NoDecode] = Field(
        default=[300, 900, 3600],
        validation_alias="POLYWINDOW_FEED_INTERVALS_S",
        description="a JSON list or comma-separated: 300,900",
    )
    gap_threshold_s: float = Field(default=5.0, gt=0, validation_alias="POLYWINDOW_GAP_THRESHOLD_S")
    stale_after_s: float = Field(default=30.0, gt=0, validation_alias="POLYWINDOW_STALE_AFTER_S")
    ping_interval_s: float = Field(default=10.0, gt=0, validation_alias="POLYWINDOW_PING_INTERVAL_S")
    gamma_poll_s: float = Field(default=5.0, gt=0, validation_alias="POLYWINDOW_GAMMA_POLL_S")
    clock_interval_s: float = Field(default=60.0, gt=0, validation_alias="POLYWINDOW_CLOCK_INTERVAL_S")
    stats_interval_s: float = Field(default=10.0, gt=0, validation_alias="POLYWINDOW_STATS_INTERVAL_S")
    clock: Literal["system", "simulator"] = Field(
        default="system",
        validation_alias="POLYWINDOW_CLOCK",
        description="where 'now' comes from: the system clock, or the simulator's scenario time at any speed",
    )
    clock_url: str | None = Field(
        default=None,
        validation_alias="POLYWINDOW_CLOCK_URL",
        description="the simulator whose /_sim/clock is followed; default POLYWINDOW_CLOB_URL",
    )
    api_key: str | None = Field(default=None, validation_alias="POLY_API_KEY")
    api_secret: SecretStr | None = Field(default=None, validation_alias="POLY_API_SECRET")
    api_passphrase: SecretStr | None = Field(default=None, validation_alias="POLY_API_PASSPHRASE")

    @staticmethod
    def _as_list(value: Any) -> Any:
        """A JSON list, or the friendlier comma-separated form (`btc,eth`)."""
        if not isinstance(value, str):
            return value
        if value.strip().startswith("["):
            return json.loads(value)
        return [part.strip() for part in value.split(",") if part.strip()]

    @field_validator("assets", mode="before")
    @classmethod
    def _known_assets(cls, value: Any) -> Any:
        value = cls._as_list(value)
        if not isinstance(value, list):
            return value
        return list(known_assets(str(a).strip().lower() for a in value))

    @field_validator("intervals_s", mode="before")
    @classmethod
    def _interval_list(cls, value: Any) -> Any:
        return cls._as_list(value)

    @field_validator("intervals_s")
    @classmethod
    def _known_intervals(cls, value: list[int]) -> list[int]:
        return list(known_intervals(value))

    @field_validator("clob_url", "gamma_url")
    @classmethod
    def _http_form(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value

    @field_validator("market_ws_url", "user_ws_url", "rtds_url")
    @classmethod
    def _ws_form(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError("expected a ws:// or wss:// URL")
        return value

    @model_validator(mode="after")
    def _creds_together(self) -> FeedSettings:
        given = [self.api_key is not None, self.api_secret is not None, self.api_passphrase is not None]
        if any(given) and not all(given):
            raise ValueError("POLY_API_KEY, POLY_API_SECRET and POLY_API_PASSPHRASE must be set together")
        return self

    def api_creds(self) -> tuple[str, SecretStr, SecretStr] | None:
        """The user-channel credentials, None when unset (all three or none: checked at load)."""
        if self.api_key is None or self.api_secret is None or self.api_passphrase is None:
            return None
        return self.api_key, self.api_secret, self.api_passphrase


class FlowSettings(TraderSettings):
    """`polywindow flow` and `polywindow replay`: the strategies with their parameters (the canary by
    default), the limits from settings, and how the flow reads its inputs."""

    strategies: dict[str, dict[str, Any]] = Field(
        default_factory=lambda: {"canary": dict[str, Any]()},
        validation_alias="POLYWINDOW_FLOW_STRATEGIES",
        description='strategies to run and their parameters, JSON: {"canary": {"notional_usd": "1"}}',
    )
    min_time_left_s: int = Field(default=10, ge=0, validation_alias="POLYWINDOW_FLOW_MIN_TIME_LEFT_S")
    max_daily_drawdown_usd: Decimal = Field(
        default=Decimal(50), ge=0, validation_alias="POLYWINDOW_FLOW_MAX_DAILY_DRAWDOWN_USD"
    )
    max_staleness_ms: int = Field(
        default=1000,
        ge=100,
        le=60_000,
        validation_alias="POLYWINDOW_FLOW_MAX_STALENESS_MS",
        description="risk refuses market data this much older than the controls, or controls this much older than"
        " the data (data_stale, controls_stale): the flow's tolerance for its own lag",
    )
    workers: int = Field(default=1, ge=1, le=64, validation_alias="POLYWINDOW_FLOW_WORKERS")
    batch_size: int = Field(default=1000, ge=1, validation_alias="POLYWINDOW_FLOW_BATCH_SIZE")
    controls_poll_ms: int = Field(
        default=250, gt=0, le=500, validation_alias="POLYWINDOW_FLOW_CONTROLS_POLL_MS"
    )
    market_data_start: Literal["earliest", "end"] = Field(
        default="earliest",
        validation_alias="POLYWINDOW_FLOW_MARKET_DATA_START",
        description="where md.book/trades/oracle/spot are read from at start: the broker's earliest (rebuilds the books"
        " from their snapshots; a backlog older than the controls is refused as data_stale) or the end",
    )
    archive_dir: Path = Field(default=Path("archive"), validation_alias="POLYWINDOW_ARCHIVE_DIR")

    @field_validator("strategies")
    @classmethod
    def _known_strategies(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        from core.strategies import build_strategy

        if not value:
            raise ValueError("at least one strategy")
        for name, params in value.items():
            try:
                build_strategy(name, params)
            except (KeyError, ValidationError) as exc:
                raise ValueError(f"strategy {name!r}: {exc}") from None
        return value


class ExecuteSettings(TraderSettings):
    """`polywindow execute`: the venue, the trading key (LIVE and DRY_RUN sign with it; API
    credentials are derived from it at start), limits and the paper balance."""

    clob_url: str = Field(default="http://127.0.0.1:8765", validation_alias="POLYWINDOW_CLOB_URL")
    private_key: SecretStr | None = Field(default=None, validation_alias="POLY_PRIVATE_KEY")
    max_position_usd: Decimal = Field(
        default=Decimal(5), gt=0, validation_alias="POLYWINDOW_MAX_POSITION_USD"
    )
    daily_drawdown_usd: Decimal = Field(
        default=Decimal(20), gt=0, validation_alias="POLYWINDOW_EXEC_DAILY_DRAWDOWN_USD"
    )
    paper_balance_usd: Decimal = Field(
        default=Decimal(100), ge=0, validation_alias="POLYWINDOW_PAPER_BALANCE_USD"
    )
    confirm_s: float = Field(default=5.0, gt=0, validation_alias="POLYWINDOW_CONFIRM_S")
    confirm_poll_s: float = Field(
        default=0.1, gt=0, validation_alias="POLYWINDOW_CONFIRM_POLL_S"
    )  # LIVE: how often the confirmation loop asks the venue (the user channel is read as it speaks)
    user_ws_url: str | None = Field(
        default=None, validation_alias="POLYWINDOW_USER_WS_URL"
    )  # LIVE: the user channel confirming our orders (default: the CLOB's host, /ws/user)
    reconcile_s: float = Field(
        default=60.0, gt=0, validation_alias="POLYWINDOW_RECONCILE_S"
    )  # LIVE: reconciliation against the venue again every this many seconds
    backtest_tick: Decimal = Field(default=Decimal("0.01"), gt=0, validation_alias="POLYWINDOW_BACKTEST_TICK")
    backtest_fee_rate: Decimal = Field(
        default=Decimal("0.07"), ge=0, validation_alias="POLYWINDOW_BACKTEST_FEE_RATE"
    )
    group_id: str = Field(default="execute", min_length=1, validation_alias="POLYWINDOW_EXECUTE_GROUP")
    rpc_url: str | None = Field(
        default=None, validation_alias="POLYWINDOW_RPC_URL"
    )  # LIVE: the JSON-RPC endpoint redemptions are sent to (default: the venue's /rpc, the simulator's)
    venue_heartbeat_s: float = Field(
        default=5.0, gt=0, lt=10, validation_alias="POLYWINDOW_VENUE_HEARTBEAT_S"
    )  # LIVE: the dead-man switch's beat while an order of ours may rest (the venue cancels after ~10 s)

    @field_validator("private_key")
    @classmethod
    def _blank_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None or not value.get_secret_value().strip() else value

    @model_validator(mode="after")
    def _key_when_signing(self) -> ExecuteSettings:
        if self.mode in (TradingMode.LIVE, TradingMode.DRY_RUN) and self.private_key is None:
            raise ValueError(f"POLYWINDOW_MODE={self.mode.value} signs orders: POLY_PRIVATE_KEY must be set")
        return self


class AlertSettings(StackSettings):
    """Where alerts go (`polywindow sink` delivers every alert raised on ops.alerts; the API and the
    executor share it): apprise URLs, secrets, never shown."""

    alert_urls: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        validation_alias="POLYWINDOW_ALERT_URLS",
        description="apprise URLs (discord://..., tgram://..., json://host/path), comma-separated or a JSON list; secrets",
    )

    @field_validator("alert_urls", mode="before")
    @classmethod
    def _url_list(cls, value: Any) -> Any:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if not isinstance(value, str):
            return value
        if value.strip().startswith("["):
            return json.loads(value)
        return [part.strip() for part in value.split(",") if part.strip()]

    @field_validator("alert_urls")
    @classmethod
    def _alert_url_form(cls, value: list[SecretStr]) -> list[SecretStr]:
        for url in value:
            if "://" not in url.get_secret_value():
                raise ValueError("each alert URL needs a scheme (discord://, tgram://, json://, ...)")
        return value


class WatchSettings(StackSettings):
    """`polywindow watch`: how often it reads PostgreSQL, and the thresholds it alerts on."""

    watch_interval_s: float = Field(default=10.0, gt=0, validation_alias="POLYWINDOW_WATCH_INTERVAL_S")
    alert_drawdown_usd: Decimal = Field(
        default=Decimal(50), gt=0, validation_alias="POLYWINDOW_ALERT_DRAWDOWN_USD"
    )
    db_max_connections: int | None = Field(
        default=None,
        gt=0,
        validation_alias="POLYWINDOW_DB_MAX_CONNECTIONS",
        description="connections to our database counted as 100% (unset: the server's max_connections"
        " less its superuser reserve)",
    )


class ApiSettings(AlertSettings):
    """`polywindow api` (and `polywindow controls`, its shell client): where it listens, its bearer
    token, and the alert URLs (apprise) the safety net notifies. Binds to loopback unless told otherwise."""

    api_token: SecretStr | None = Field(
        default=None,
        validation_alias="POLYWINDOW_API_TOKEN",
        description="the bearer token every state-changing route needs (at least 16 characters); `api` refuses to start without it",
    )
    api_host: str = Field(default="127.0.0.1", validation_alias="POLYWINDOW_API_HOST")
    api_port: int = Field(default=8780, ge=1, le=65_535, validation_alias="POLYWINDOW_API_PORT")
    api_url: str = Field(
        default="http://127.0.0.1:8780",
        validation_alias="POLYWINDOW_API_URL",
        description="where `polywindow controls` finds the API",
    )

    @field_validator("api_token")
    @classmethod
    def _token_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if len(value.get_secret_value().strip()) < 16:
            raise ValueError("the token must have at least 16 characters")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("api_url")
    @classmethod
    def _http_form(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http:// or https:// URL")
        return value.rstrip("/")


class DashboardSettings(ApiSettings):
    """`polywindow dashboard`: where Streamlit listens (loopback unless told otherwise) and how often
    its pages refresh; it reaches the API at POLYWINDOW_API_URL with the API's token."""

    dashboard_host: str = Field(default="127.0.0.1", validation_alias="POLYWINDOW_DASHBOARD_HOST")
    dashboard_port: int = Field(default=8501, ge=1, le=65_535, validation_alias="POLYWINDOW_DASHBOARD_PORT")
    dashboard_refresh_s: float = Field(
        default=2.0, ge=0.5, le=60, validation_alias="POLYWINDOW_DASHBOARD_REFRESH_S"
    )


S = TypeVar("S", bound=BaseSettings)


# Settings whose values are known not to be secret: only these are echoed in an error message.
# Anything else (URLs that may carry credentials, keys, KAFKA_CLIENT_CONFIG, whatever is added later
# and not listed here) is shown as <hidden>.
PUBLIC_SETTINGS = frozenset(
    {
        "kafka_bootstrap_servers",
        "stack_dir",
        "startup_timeout_s",
        "dashboard_host",
        "dashboard_port",
        "dashboard_refresh_s",
        "log_level",
        "mode",
        "sim_port",
        "archive_dir",
        "archive_roll_rows",
        "archive_roll_s",
        "archive_batch_size",
        "archive_start",
        "assets",
        "intervals_s",
        "gap_threshold_s",
        "stale_after_s",
        "ping_interval_s",
        "gamma_poll_s",
        "clock_interval_s",
        "stats_interval_s",
        "strategies",
        "min_time_left_s",
        "max_daily_drawdown_usd",
        "db_statement_timeout_ms",
        "watch_interval_s",
        "alert_drawdown_usd",
        "db_max_connections",
        "workers",
        "batch_size",
        "controls_poll_ms",
        "market_data_start",
        "clock",
        "max_position_usd",
        "daily_drawdown_usd",
        "paper_balance_usd",
        "confirm_s",
        "backtest_tick",
        "backtest_fee_rate",
        "group_id",
        "api_host",
        "api_port",
        "api_url",
    }
)


def _field_of(model: type[BaseSettings], name: str) -> str | None:
    for field, info in model.model_fields.items():
        if name in (field, info.validation_alias):
            return field
    return None


def _alias_of(model: type[BaseSettings], field: str) -> str:
    info = model.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    return alias if isinstance(alias, str) else field.upper()


def _problem(model: type[BaseSettings], err: Any) -> str:
    if not err["loc"]:  # a check across fields: its message names the variables, echoes no value
        return str(err["msg"]).removeprefix("Value error, ")
    field = _field_of(model, str(err["loc"][0]))
    name = _alias_of(model, field) if field else str(err["loc"][0])
    shown = json.dumps(err.get("input"), default=str) if field in PUBLIC_SETTINGS else "<hidden>"
    return f"{name}={shown}: {str(err['msg']).removeprefix('Value error, ')}"


def _build(model: type[S], overrides: dict[str, Any]) -> tuple[S | None, list[str]]:
    """The settings, or None and what is wrong with them (values echoed for public settings only)."""
    try:
        return model(**overrides), []
    except SourceError as exc:  # a value that is not even parseable (bad JSON for a dict setting)
        match = re.search(r'field "(\w+)"', str(exc))
        name = _alias_of(model, match.group(1)) if match else "?"
        return None, [f"{name}=<hidden>: cannot parse the value as JSON"]
    except ValidationError as exc:
        return None, [_problem(model, err) for err in exc.errors()]


def load(model: type[S], **overrides: Any) -> S:
    """Build settings or raise SettingsError naming each bad variable and the reason; the value is
    shown only for a setting on the PUBLIC_SETTINGS allow-list."""
    settings, problems = _build(model, overrides)
    if settings is None:
        raise SettingsError("invalid setting(s): " + "; ".join(problems))
    return settings


# Every process's settings model: `config check` loads each, so it refuses exactly what some
# process would refuse at start-up.
EVERY_PROCESS: tuple[type[StackSettings], ...] = (
    TraderSettings,
    RecorderSettings,
    FeedSettings,
    SimSettings,
    FlowSettings,
    ApiSettings,
    WatchSettings,
    DashboardSettings,
)


def check_every_process() -> TraderSettings:
    """Load every process's settings; SettingsError listing each problem once. Returns the trader's."""
    problems = list(dict.fromkeys(p for model in EVERY_PROCESS for p in _build(model, {})[1]))
    if problems:
        raise SettingsError("invalid setting(s): " + "; ".join(problems))
    return load(TraderSettings)
