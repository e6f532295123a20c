"""What `polywindow strategy`, `sweep` and `compare` share: their settings, the archive's feed gaps
and a backtest job built from them (construction only)."""

from __future__ import annotations

import json
import tomllib
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from pydantic import Field

from core.backtest import Gap
from polywindow.cli_common import fail
from polywindow.settings import FlowSettings
from research.backtest import BacktestJob
from sinks.postgres.trading_reads import read_feed_gaps

__all__ = ["ResearchSettings", "backtest_job", "read_decimal_file"]


class ResearchSettings(FlowSettings):
    """The flow's settings (archive, limits) plus BACKTEST's fee rate and the per-position cap."""

    backtest_fee_rate: Decimal = Field(
        default=Decimal("0.07"), ge=0, lt=1, validation_alias="POLYWINDOW_BACKTEST_FEE_RATE"
    )
    max_position_usd: Decimal = Field(
        default=Decimal(5), gt=0, validation_alias="POLYWINDOW_MAX_POSITION_USD"
    )


def read_decimal_file(path: Path, what: str) -> dict[str, Any]:
    """A JSON or TOML object whose non-integer numbers are read as Decimal (never a float)."""
    try:
        text = path.read_text()
    except OSError as exc:
        fail(f"{what} {path}: {exc.strerror or exc}")
    try:
        if path.suffix == ".toml":
            data: Any = tomllib.loads(text, parse_float=Decimal)
        else:
            data = json.loads(text, parse_float=Decimal)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        fail(f"{what} {path}: not valid {'TOML' if path.suffix == '.toml' else 'JSON'}: {exc}")
    if not isinstance(data, dict):
        fail(f"{what} {path}: must be an object")
    return data


def feed_gaps(database_url: str, start: datetime, end: datetime) -> tuple[Gap, ...]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        return tuple(read_feed_gaps(conn, start, end))


def backtest_job(
    settings: ResearchSettings,
    database_url: str,
    start: datetime,
    end: datetime,
    strategy: str,
    params: dict[str, Any],
    instruments: frozenset[str],
) -> BacktestJob:
    return BacktestJob(
        archive_dir=settings.archive_dir,
        start=start,
        end=end,
        strategy=strategy,
        params=params,
        instruments=instruments,
        gaps=feed_gaps(database_url, start, end),
        fee_rate=settings.backtest_fee_rate,
        max_position_usd=settings.max_position_usd,
        min_time_left_s=settings.min_time_left_s,
        max_daily_drawdown_usd=settings.max_daily_drawdown_usd,
    )
