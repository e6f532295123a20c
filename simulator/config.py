"""Simulator settings: one frozen pydantic model, unit-suffixed names, the admin token a secret."""

from __future__ import annotations

import secrets
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class SimulatorConfig(BaseModel):
    """What a simulator run may vary; defaults mimic the venue as POLYMARKET.md describes it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8765, ge=0, le=65535)
    seed: int = 0
    chain_id: int = 137
    initial_collateral_usd: Decimal = Field(default=Decimal("1000"), ge=0)
    fee_rate: Decimal = Field(default=Decimal("0.07"), ge=0, lt=1)
    fee_exponent: int = Field(default=1, ge=1, le=2)
    base_fee_bps: int = Field(default=1000, ge=0)
    trade_mined_delay_s: float = Field(default=0.5, ge=0)
    trade_confirmed_delay_s: float = Field(default=1.5, ge=0)
    auth_skew_s: int = Field(default=30, ge=1)
    gtd_security_margin_s: int = Field(default=60, ge=0)
    heartbeat_timeout_s: float = Field(default=10.0, gt=0)
    auto_tick_change: bool = True
    # No fixed default: an in-process simulator built without one gets an unguessable token.
    admin_token: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_urlsafe(32)))
    api_key_seed: SecretStr = SecretStr("polywindow-simulator")
    pump_interval_s: float = Field(default=0.02, gt=0)
    # Depth a taker took from a simulated maker comes back after 0.5-1.5x this (simulator.refill).
    refill_delay_s: float = Field(default=10.0, ge=0)
