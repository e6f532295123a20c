"""The pre-deployment checklist (seed 3.1) and the LIVE gate that reads it.

Each line is CONFIRMED only by stored evidence (a campaign run, its checks, a dashboard that answered),
with where that evidence is; anything else is MISSING. LIVE against a venue that is not the local
simulator starts only when every line is CONFIRMED, or with an operator's override and its reason
(the adapter audits it).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import urlsplit

__all__ = [
    "CANARY_MIN_WINDOWS",
    "KILL_STEPS",
    "ChecklistEvidence",
    "ChecklistLine",
    "GateDecision",
    "RunSummary",
    "checklist",
    "is_simulator_address",
    "live_gate",
]

CANARY_MIN_WINDOWS = 20
KILL_STEPS = ("PAUSE", "FLATTEN", "EMERGENCY")
STOP_VARIANT_NAMES = ("A", "B", "C", "D", "E")


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One stored campaign run as the checklist reads it."""

    run_id: str
    kind: str
    windows: int
    passed: bool
    assertion_failures: int
    passed_checks: frozenset[str]  # the run-level checks that passed
    failed_variants: frozenset[str] = frozenset()  # stop variants with any failed check in the run


@dataclass(frozen=True, slots=True)
class ChecklistEvidence:
    runs: tuple[RunSummary, ...]
    dashboard_url: str
    dashboard_answered: bool


@dataclass(frozen=True, slots=True)
class ChecklistLine:
    item: str
    confirmed: bool
    where: str

    @property
    def status(self) -> str:
        return "CONFIRMED" if self.confirmed else "MISSING"


def _canary(runs: tuple[RunSummary, ...]) -> ChecklistLine:
    item = f"canary campaign of {CANARY_MIN_WINDOWS}+ windows with zero assertion failures"
    good = [
        r
        for r in runs
        if r.kind == "canary" and r.passed and r.windows >= CANARY_MIN_WINDOWS and r.assertion_failures == 0
    ]
    if good:
        return ChecklistLine(item, True, f"campaign_runs {good[-1].run_id} ({good[-1].windows} windows)")
    seen = [
        f"{r.run_id}: {r.windows} windows, {'passed' if r.passed else 'failed'}"
        for r in runs
        if r.kind == "canary"
    ]
    return ChecklistLine(item, False, "; ".join(seen) or "no canary campaign in campaign_runs")


def _stops(runs: tuple[RunSummary, ...]) -> ChecklistLine:
    item = "every stop variant verified (A-E, E never fires)"
    wanted = {f"{v}.fired" for v in STOP_VARIANT_NAMES[:-1]} | {"E.never_fires"}
    verified: set[str] = set()
    where: list[str] = []
    for r in runs:
        if r.kind == "stops":  # a variant is verified by its own checks, whatever the others did
            found = {c for c in wanted & r.passed_checks if c.split(".")[0] not in r.failed_variants}
            if found:
                verified |= found
                where.append(r.run_id)
    missing = sorted(v.split(".")[0] for v in wanted - verified)
    if not missing:
        return ChecklistLine(item, True, f"campaign_runs {', '.join(where)}")
    return ChecklistLine(item, False, f"variants not verified: {', '.join(missing)}")


def _kill(runs: tuple[RunSummary, ...]) -> ChecklistLine:
    item = "kill switch exercised: PAUSE, FLATTEN and EMERGENCY each by a campaign step"
    done: dict[str, str] = {}
    for r in runs:
        for step in KILL_STEPS:
            if f"kill_switch.{step}" in r.passed_checks:
                done[step] = r.run_id
    missing = [s for s in KILL_STEPS if s not in done]
    if not missing:
        return ChecklistLine(item, True, ", ".join(f"{s} in campaign_runs {done[s]}" for s in KILL_STEPS))
    return ChecklistLine(item, False, f"not exercised: {', '.join(missing)}")


def checklist(evidence: ChecklistEvidence) -> list[ChecklistLine]:
    """Seed 3.1's four lines, each CONFIRMED or MISSING with where its evidence is (or is not)."""
    dashboard = ChecklistLine(
        "dashboard live",
        evidence.dashboard_answered,
        f"{evidence.dashboard_url} answered its health check"
        if evidence.dashboard_answered
        else f"{evidence.dashboard_url} did not answer",
    )
    return [_canary(evidence.runs), _stops(evidence.runs), dashboard, _kill(evidence.runs)]


def is_simulator_address(url: str) -> bool:
    """The simulator only ever serves on loopback (it is never deployed); any other host is a venue."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class GateDecision:
    allowed: bool
    overridden: bool
    reason: str


def live_gate(venue_url: str, lines: list[ChecklistLine], override_reason: str | None) -> GateDecision:
    """May LIVE start against `venue_url`? Always on the simulator; elsewhere only with the checklist
    complete, or with an operator's override that gives a reason (blank is no reason)."""
    if is_simulator_address(venue_url):
        return GateDecision(True, False, "the venue is the local simulator")
    missing = [line.item for line in lines if not line.confirmed]
    if not missing:
        return GateDecision(True, False, "the pre-deployment checklist is complete")
    if override_reason is not None and override_reason.strip():
        return GateDecision(
            True, True, f"checklist incomplete ({'; '.join(missing)}); overridden: {override_reason.strip()}"
        )
    return GateDecision(
        False,
        False,
        f"LIVE against {venue_url} refused: the pre-deployment checklist is incomplete"
        f" (MISSING: {'; '.join(missing)}); run `polywindow checklist`, or override with"
        " --override-checklist REASON (audited)",
    )
