"""Run-time switchable faults: what the admin endpoint and scenarios flip to hurt the client.

One mutable `FaultState` is shared by the HTTP middleware, the exchange and both sockets. Counters
("next N") make tests deterministic; each use decrements them. `FaultUpdate` is the admin body: any
subset of fields, applied with `FaultState.apply`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, fields
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

REJECT_DEFAULT = "could not insert order"


@dataclass
class FaultState:
    latency_ms: int = 0
    http_error_count: int = 0
    http_error_status: int = 500
    http_error_message: str = "could not insert order"
    http_error_paths: list[str] = field(default_factory=list)
    rate_limit_count: int = 0
    retry_after_s: int = 1
    drop_order_response_count: int = 0
    reject_order_count: int = 0
    reject_status: int = 400
    reject_message: str = REJECT_DEFAULT
    partial_fill_ratio: Decimal | None = None
    fail_trade_count: int = 0
    market_stalled_until: float = 0.0
    duplicate_price_change: bool = False
    reorder_price_change: bool = False
    malformed_frame_count: int = 0

    def take(self, counter: str) -> bool:
        """Consume one use of a "next N" counter; True when the fault fires."""
        left: int = getattr(self, counter)
        if left == 0:
            return False
        if left > 0:
            setattr(self, counter, left - 1)
        return True

    def http_error_applies(self, path: str) -> bool:
        if self.http_error_count == 0:
            return False
        if self.http_error_paths and not any(path.startswith(p) for p in self.http_error_paths):
            return False
        return self.take("http_error_count")

    def market_stalled(self) -> bool:
        return time.monotonic() < self.market_stalled_until

    def apply(self, update: FaultUpdate) -> None:
        for name, value in update.model_dump(exclude_unset=True).items():
            if value is None and name != "partial_fill_ratio":
                continue
            if name == "stall_market_s":
                self.market_stalled_until = time.monotonic() + float(value)
            else:
                setattr(self, name, value)

    def reset(self) -> None:
        fresh = FaultState()
        for f in fields(self):
            setattr(self, f.name, getattr(fresh, f.name))

    def snapshot(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = str(value) if isinstance(value, Decimal) else value
        out["market_stalled_for_s"] = max(0.0, self.market_stalled_until - time.monotonic())
        return out


class FaultUpdate(BaseModel):
    """Body of `POST /_admin/faults`; counters of -1 mean "until cleared"."""

    model_config = ConfigDict(extra="forbid")

    latency_ms: int | None = Field(default=None, ge=0, le=60_000)
    http_error_count: int | None = Field(default=None, ge=-1)
    http_error_status: int | None = Field(default=None, ge=400, le=599)
    http_error_message: str | None = None
    http_error_paths: list[str] | None = None
    rate_limit_count: int | None = Field(default=None, ge=-1)
    retry_after_s: int | None = Field(default=None, ge=0)
    drop_order_response_count: int | None = Field(default=None, ge=-1)
    reject_order_count: int | None = Field(default=None, ge=-1)
    reject_status: int | None = Field(default=None, ge=400, le=599)
    reject_message: str | None = None
    partial_fill_ratio: Decimal | None = Field(default=None, gt=0, le=1)
    fail_trade_count: int | None = Field(default=None, ge=-1)
    stall_market_s: float | None = Field(default=None, ge=0)
    duplicate_price_change: bool | None = None
    reorder_price_change: bool | None = None
    malformed_frame_count: int | None = Field(default=None, ge=-1)
