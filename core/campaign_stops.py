"""The stop-loss campaign (seed 2.2, 2.3): the five variants and the checks of each trigger.

A variant is an `ExitConfig`; a trigger's evidence is what the executor's exit audit, its sell order
and the venue say about one exit. Every check is pure and names its evidence; variant E (a 50 % stop)
is the control: any trigger of it is a failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.campaign_checks import Check, cents
from core.exits import ExitConfig

__all__ = [
    "MAX_EXIT_DELAY_MS",
    "STOP_VARIANTS",
    "StopVariant",
    "TriggerEvidence",
    "slippage_summary",
    "trigger_checks",
    "variant_checks",
]

_ZERO = Decimal(0)
MAX_EXIT_DELAY_MS = 1000
"""An exit order later than this after its trigger did not go out "at once"."""


@dataclass(frozen=True, slots=True)
class StopVariant:
    name: str
    config: ExitConfig
    control: bool = False  # E: must never fire
    description: str = ""


_P = Decimal
STOP_VARIANTS: dict[str, StopVariant] = {
    "A": StopVariant("A", ExitConfig(stop_loss_pct=_P("0.05"), take_profit_pct=None), description="5% stop"),
    "B": StopVariant("B", ExitConfig(stop_loss_pct=_P("0.15"), take_profit_pct=None), description="15% stop"),
    "C": StopVariant(
        "C", ExitConfig(stop_loss_pct=_P("0.05"), take_profit_pct=_P("0.20")), description="5% stop + 20% TP"
    ),
    "D": StopVariant(
        "D",
        ExitConfig(stop_loss_pct=None, take_profit_pct=None, trailing_pct=_P("0.10")),
        description="no stop, 10% trailing TP",
    ),
    "E": StopVariant(
        "E",
        ExitConfig(stop_loss_pct=_P("0.50"), take_profit_pct=None),
        control=True,
        description="50% stop (control: never fires)",
    ),
}


@dataclass(frozen=True, slots=True)
class TriggerEvidence:
    """One exit of one position: the audit's trigger, the sell order and the venue's trades of it."""

    variant: str
    window_id: str
    position_id: str
    reason: str
    entry_price: Decimal
    mark: Decimal | None
    previous_mark: Decimal | None
    threshold: Decimal | None
    trigger_ms: int  # when the book that crossed the threshold was read (wall clock)
    exit_order_ms: int | None  # when the exit order had been sent and answered (wall clock)
    exit_status: str | None
    exit_size_matched: Decimal
    position_size: Decimal
    position_state: str
    intended_price: Decimal | None
    actual_price: Decimal | None
    our_sell_cash_usd: Decimal
    venue_sell_cash_usd: Decimal


def _at_threshold(t: TriggerEvidence) -> Check:
    """The mark crossed the threshold on this tick and not before (the first crossing fired)."""
    if t.mark is None or t.threshold is None:
        return Check("trigger_price", False, f"{t.reason}: mark {t.mark}, threshold {t.threshold}")
    if t.reason == "STOP_LOSS":
        crossed = t.mark <= t.threshold
        before = t.previous_mark is None or t.previous_mark > t.threshold
    else:  # TAKE_PROFIT crosses upwards; the trailing floor downwards from its peak
        crossed = t.mark >= t.threshold if t.reason == "TAKE_PROFIT" else t.mark <= t.threshold
        before = t.previous_mark is None or (
            t.previous_mark < t.threshold if t.reason == "TAKE_PROFIT" else t.previous_mark > t.threshold
        )
    return Check(
        "trigger_price",
        crossed and before,
        f"{t.reason}: bid {t.mark} vs threshold {t.threshold} (previous bid {t.previous_mark}, entry {t.entry_price})",
    )


def trigger_checks(t: TriggerEvidence, max_delay_ms: int = MAX_EXIT_DELAY_MS) -> list[Check]:
    """Seed 2.3 for one trigger: at its threshold, exit order at once, filled, position closed, the
    balance moved by the exit as we booked it, and the slippage measured."""
    delay = None if t.exit_order_ms is None else t.exit_order_ms - t.trigger_ms
    slippage = (
        None if t.actual_price is None or t.intended_price is None else t.actual_price - t.intended_price
    )
    checks = [
        _at_threshold(t),
        Check(
            "exit_delay",
            delay is not None and 0 <= delay <= max_delay_ms,
            f"exit sent and answered {delay} ms after the crossing book was read (limit {max_delay_ms} ms)",
        ),
        Check(
            "exit_filled",
            t.exit_status == "FILLED" and t.exit_size_matched == t.position_size,
            f"sell {t.exit_status}, {t.exit_size_matched} of {t.position_size}",
        ),
        Check("position_closed", t.position_state == "CLOSED", f"position {t.position_state}"),
        Check(
            "exit_balance",
            cents(t.our_sell_cash_usd) == cents(t.venue_sell_cash_usd) and t.venue_sell_cash_usd > _ZERO,
            f"our sell {cents(t.our_sell_cash_usd)} USD, venue {cents(t.venue_sell_cash_usd)} USD net of fees",
        ),
        Check(
            "slippage",
            slippage is not None,
            f"intended {t.intended_price}, actual {t.actual_price}, slippage {slippage}",
        ),
    ]
    return [Check(c.name, c.passed, c.evidence, t.window_id) for c in checks]


def variant_checks(variant: StopVariant, windows: int, triggers: list[TriggerEvidence]) -> list[Check]:
    """The variant as a whole: enough windows run; it fired (or, for the control, it never did)."""
    fired = [t for t in triggers if t.reason != "EXPIRY"]
    enough = Check(f"{variant.name}.windows", windows >= 5, f"{windows} window(s) run (at least 5)")
    if variant.control:
        verdict = Check(
            f"{variant.name}.never_fires",
            not fired,
            f"{len(fired)} trigger(s): " + ", ".join(f"{t.reason} at {t.mark}" for t in fired)
            if fired
            else "never fired",
        )
    else:
        verdict = Check(f"{variant.name}.fired", bool(fired), f"{len(fired)} trigger(s)")
    return [enough, verdict]


def slippage_summary(triggers: list[TriggerEvidence]) -> dict[str, str]:
    """min, median and max of actual minus intended exit price over the triggers that sold."""
    values = sorted(
        t.actual_price - t.intended_price
        for t in triggers
        if t.actual_price is not None and t.intended_price is not None
    )
    if not values:
        return {"count": "0"}
    mid = values[len(values) // 2]
    return {"count": str(len(values)), "min": str(values[0]), "median": str(mid), "max": str(values[-1])}
