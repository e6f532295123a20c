"""Typed settings for the whole process set, from the environment or a git-ignored `.env`.

A bad or missing setting stops start-up with a message naming the environment variable.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from core.enums import TradingMode


class SettingsError(Exception):
    """Start-up must stop; the message names the setting and what is wrong with it."""


class StackSettings(BaseSettings):
    """Where the infrastructure is. Unset DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS = the embedded stack."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True, populate_by_name=True)

    database_url: SecretStr | None = Field(default=None, validation_alias="DATABASE_URL")
    kafka_bootstrap_servers: str | None = Field(default=None, validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    kafka_client_config: dict[str, str] = Field(
        default_factory=dict,
        validation_alias="KAFKA_CLIENT_CONFIG",
        description="extra librdkafka settings as a JSON object (security.protocol, sasl.*) for a real cluster",
    )
    stack_dir: Path = Field(default=Path(".stack"), validation_alias="POLYWINDOW_STACK_DIR")
    startup_timeout_s: float = Field(default=30.0, gt=0, validation_alias="POLYWINDOW_STARTUP_TIMEOUT_S")
    log_level: str = Field(default="INFO", validation_alias="POLYWINDOW_LOG_LEVEL")

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

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("expected one of DEBUG, INFO, WARNING, ERROR")
        return value.upper()


class TraderSettings(StackSettings):
    """Settings of the trading processes; the mode is chosen once, here."""

    mode: TradingMode = Field(default=TradingMode.DRY_RUN, validation_alias="POLYWINDOW_MODE")


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


class FeedSettings(StackSettings):
    """`polywindow feeds`: venue addresses (the simulator's loopback by default), what to follow, limits."""

    clob_url: str = Field(default="http://127.0.0.1:8765", validation_alias="POLYWINDOW_CLOB_URL")
    gamma_url: str = Field(default="http://127.0.0.1:8765/gamma", validation_alias="POLYWINDOW_GAMMA_URL")
    market_ws_url: str = Field(
        default="ws://127.0.0.1:8765/ws/market", validation_alias="POLYWINDOW_MARKET_WS_URL"
    )
    user_ws_url: str = Field(default="ws://127.0.0.1:8765/ws/user", validation_alias="POLYWINDOW_USER_WS_URL")
    rtds_url: str = Field(default="ws://127.0.0.1:8765/rtds", validation_alias="POLYWINDOW_RTDS_URL")
    assets: list[str] = Field(default=["btc", "eth", "sol", "xrp"], validation_alias="POLYWINDOW_FEED_ASSETS")
    intervals_s: list[int] = Field(default=[300, 900, 3600], validation_alias="POLYWINDOW_FEED_INTERVALS_S")
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

    @field_validator("assets")
    @classmethod
    def _asset_form(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if not re.fullmatch(r"[a-z]{2,10}", a)]
        if bad or not value:
            raise ValueError(f"expected lower-case asset codes like btc, got {value!r}")
        return value

    @field_validator("intervals_s")
    @classmethod
    def _interval_form(cls, value: list[int]) -> list[int]:
        if not value or any(i not in (300, 900, 3600, 14_400) for i in value):
            raise ValueError(f"expected a list of 300, 900, 3600, 14400, got {value!r}")
        return value

    def api_creds(self) -> tuple[str, SecretStr, SecretStr] | None:
        """The user-channel credentials, None when unset; raises SettingsError when only some are set.

        Checked here rather than in a model validator, whose error would echo the input values."""
        given = [self.api_key is not None, self.api_secret is not None, self.api_passphrase is not None]
        if any(given) and not all(given):
            raise SettingsError("POLY_API_KEY, POLY_API_SECRET and POLY_API_PASSPHRASE must be set together")
        if self.api_key is None or self.api_secret is None or self.api_passphrase is None:
            return None
        return self.api_key, self.api_secret, self.api_passphrase


S = TypeVar("S", bound=BaseSettings)


def _alias_of(model: type[BaseSettings], field: str) -> str:
    info = model.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    return alias if isinstance(alias, str) else field.upper()


def load(model: type[S], **overrides: Any) -> S:
    """Build settings or raise SettingsError naming each bad variable, its value and the reason."""
    try:
        return model(**overrides)
    except SourceError as exc:  # a value that is not even parseable (bad JSON for a dict setting)
        match = re.search(r'field "(\w+)"', str(exc))
        name = _alias_of(model, match.group(1)) if match else "?"
        raise SettingsError(
            f"invalid setting(s): {name}: cannot parse the value ({exc.__cause__ or exc})"
        ) from None
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            name = field if field.isupper() else _alias_of(model, field)
            shown = (
                "<secret>" if "URL" in name or "KEY" in name else json.dumps(err.get("input"), default=str)
            )
            problems.append(f"{name}={shown}: {err['msg']}")
        raise SettingsError("invalid setting(s): " + "; ".join(problems)) from None
