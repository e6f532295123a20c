"""Campaign evidence in PostgreSQL: our side of each window read from the executor's rows, and a run's
windows and checks written to `campaign_runs`, `campaign_windows`, `campaign_checks` (migration 0015).

Reads only; the judgement is `core.campaign_checks`. A run is written in one transaction at its end,
so a half-written run is never read as evidence.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from core.campaign_checklist import RunSummary
from core.campaign_checks import Check, OrderEvidence, PositionEvidence, TradeEvidence, killed_by_fak

__all__ = [
    "OurWindow",
    "assertion_failures_since",
    "killed_windows",
    "our_window",
    "realized_pnl",
    "run_summaries",
    "scratch_database",
    "traded_windows",
    "write_run",
]


@dataclass(frozen=True, slots=True)
class OurWindow:
    """What our own rows say about one window (mode LIVE unless told)."""

    window_id: str
    instrument: str
    up_token_id: str
    down_token_id: str
    condition_id: str
    end_ts: datetime | None
    signal_ids: tuple[str, ...]
    orders: tuple[OrderEvidence, ...]
    fills: tuple[TradeEvidence, ...]
    positions: tuple[PositionEvidence, ...]
    our_outcome: str | None
    venue_outcome: str | None
    payout_usd: Decimal


_D = Decimal


def traded_windows(conn: psycopg.Connection, mode: str, since: datetime) -> list[str]:
    """Windows that opened at or after `since` with an entry order of `mode`, oldest first: the ones a
    run saw whole (a window already open at its start has no start print of ours, so no outcome),
    except those whose every entry the venue killed unfilled under FAK (`killed_windows`)."""
    return [w for w, entries in _entries_by_window(conn, mode, since).items() if not _all_killed(entries)]


def killed_windows(conn: psycopg.Connection, mode: str, since: datetime) -> list[str]:
    """Windows opened since `since` whose every entry of `mode` the venue killed unfilled under FAK
    (core.campaign_checks.killed_by_fak)."""
    return [w for w, entries in _entries_by_window(conn, mode, since).items() if _all_killed(entries)]


def _all_killed(entries: list[tuple[str, Decimal, str | None]]) -> bool:
    return all(killed_by_fak(*entry) for entry in entries)


def _entries_by_window(
    conn: psycopg.Connection, mode: str, since: datetime
) -> dict[str, list[tuple[str, Decimal, str | None]]]:
    """(status, size matched, detail) of each entry order, by window, windows oldest entry first."""
    rows = conn.execute(
        "SELECT o.window_id, o.status, o.size_matched, o.detail FROM orders o JOIN windows w USING (window_id)"
        " WHERE o.mode = %s AND o.side = 'BUY' AND w.start_ts >= %s ORDER BY o.created_at",
        (mode, since),
    ).fetchall()
    found: dict[str, list[tuple[str, Decimal, str | None]]] = {}
    for window_id, status, matched, detail in rows:
        found.setdefault(str(window_id), []).append((str(status), Decimal(matched), detail))
    return found


def entered_windows(conn: psycopg.Connection, mode: str) -> list[str]:
    """Every window with an entry order of `mode` (a run's own database: everything it traded)."""
    rows = conn.execute(
        "SELECT window_id FROM orders WHERE mode = %s AND side = 'BUY' GROUP BY window_id ORDER BY min(created_at)",
        (mode,),
    ).fetchall()
    return [str(r[0]) for r in rows]


def our_window(conn: psycopg.Connection, window_id: str, mode: str = "LIVE") -> OurWindow:
    w = conn.execute(
        "SELECT asset, interval_s, up_token_id, down_token_id, condition_id, end_ts, our_outcome, venue_outcome"
        " FROM windows WHERE window_id = %s",
        (window_id,),
    ).fetchone()
    asset, interval_s, up, down, cid, end, ours, venue = w if w else ("", 0, "", "", "", None, None, None)
    signals = conn.execute(
        "SELECT DISTINCT detail->'signal'->>'signal_id' FROM audit_log WHERE action = 'entry'"
        " AND detail->>'mode' = %s AND detail->'signal'->>'window_id' = %s",
        (mode, window_id),
    ).fetchall()
    orders = conn.execute(
        "SELECT client_order_id, venue_order_id, side, status, size_matched FROM orders"
        " WHERE window_id = %s AND mode = %s ORDER BY created_at",
        (window_id, mode),
    ).fetchall()
    fills = conn.execute(
        "SELECT trade_id, venue_order_id, token_id, side, price, size, fee_usd FROM fills"
        " WHERE window_id = %s AND mode = %s AND status <> 'FAILED' ORDER BY source_ts",
        (window_id, mode),
    ).fetchall()
    positions = conn.execute(
        "SELECT p.position_id, p.token_id, p.state, p.size,"
        " (SELECT coalesce(sum(o.size_matched), 0) FROM orders o WHERE o.position_id = p.position_id"
        "  AND o.mode = p.mode AND o.side = 'BUY'),"
        " p.realized_pnl_usd, p.held_to_resolution, p.hold_reason, p.exit_reason"
        " FROM positions p WHERE p.window_id = %s AND p.mode = %s ORDER BY p.opened_at",
        (window_id, mode),
    ).fetchall()
    payouts = conn.execute(
        "SELECT coalesce(sum((detail->>'payout_usd')::numeric), 0) FROM audit_log"
        " WHERE action = 'redeemed' AND detail->>'mode' = %s AND subject = ANY(%s)",
        (mode, [str(p[0]) for p in positions]),
    ).fetchone()
    return OurWindow(
        window_id=window_id,
        instrument=f"{asset}-{_interval(int(interval_s))}",
        up_token_id=str(up),
        down_token_id=str(down),
        condition_id=str(cid),
        end_ts=end,
        signal_ids=tuple(str(s[0]) for s in signals if s[0]),
        orders=tuple(OrderEvidence(str(c), str(v), str(s), str(st), _D(m)) for c, v, s, st, m in orders),
        fills=tuple(
            TradeEvidence(str(t), str(v), str(tok), str(s), _D(p), _D(z), _D(f))
            for t, v, tok, s, p, z, f in fills
        ),
        positions=tuple(
            PositionEvidence(str(i), str(t), str(s), _D(z), _D(ez), _D(pnl), bool(h), str(hr), e)
            for i, t, s, z, ez, pnl, h, hr, e in positions
        ),
        our_outcome=ours,
        venue_outcome=venue,
        payout_usd=_D(payouts[0]) if payouts else _D(0),
    )


def _interval(seconds: int) -> str:
    return {300: "5m", 900: "15m", 3600: "1h", 14400: "4h"}.get(seconds, f"{seconds}s")


def realized_pnl(conn: psycopg.Connection, mode: str, windows: Sequence[str]) -> tuple[Decimal, int]:
    """Our realized P&L over `windows` and how many of their positions are still open."""
    row = conn.execute(
        "SELECT coalesce(sum(realized_pnl_usd), 0), count(*) FILTER (WHERE state <> 'CLOSED' AND size > 0)"
        " FROM positions WHERE mode = %s AND window_id = ANY(%s)",
        (mode, list(windows)),
    ).fetchone()
    return (_D(row[0]), int(row[1])) if row else (_D(0), 0)


def assertion_failures_since(conn: psycopg.Connection, since: datetime) -> tuple[str, ...]:
    rows = conn.execute(
        "SELECT name, detail FROM assertion_results WHERE NOT passed AND recorded_at >= %s ORDER BY id",
        (since,),
    ).fetchall()
    return tuple(f"{n}: {d}" for n, d in rows)


def write_run(
    conn: psycopg.Connection,
    run: dict[str, Any],
    windows: Sequence[dict[str, Any]],
    checks: Sequence[tuple[str, Check]],
) -> None:
    """One run with its windows and `(variant, check)` rows, in one transaction (replaces a same-id run)."""
    with conn.transaction():
        conn.execute("DELETE FROM campaign_runs WHERE run_id = %s", (run["run_id"],))
        conn.execute(
            "INSERT INTO campaign_runs (run_id, kind, params, started_at, finished_at, windows, checks, failed,"
            " assertion_failures, passed, summary) VALUES (%(run_id)s, %(kind)s, %(params)s, %(started_at)s,"
            " %(finished_at)s, %(windows)s, %(checks)s, %(failed)s, %(assertion_failures)s, %(passed)s, %(summary)s)",
            {**run, "params": Jsonb(run["params"]), "summary": Jsonb(_jsonable(run["summary"]))},
        )
        for w in windows:
            conn.execute(
                "INSERT INTO campaign_windows (run_id, window_id, instrument, variant, our_outcome, venue_outcome,"
                " passed, evidence) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    run["run_id"],
                    w["window_id"],
                    w["instrument"],
                    w.get("variant", ""),
                    w.get("our_outcome"),
                    w.get("venue_outcome"),
                    w["passed"],
                    Jsonb(_jsonable(w.get("evidence", {}))),
                ),
            )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO campaign_checks (run_id, window_id, variant, name, passed, evidence)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                [
                    (run["run_id"], c.window_id, variant, c.name, c.passed, c.evidence)
                    for variant, c in checks
                ],
            )


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def run_summaries(conn: psycopg.Connection) -> tuple[RunSummary, ...]:
    """Every finished run with the names of its passed checks (the checklist's evidence), oldest first."""
    runs = conn.execute(
        "SELECT r.run_id, r.kind, r.windows, coalesce(r.passed, false), r.assertion_failures,"
        " coalesce(array_agg(DISTINCT c.name) FILTER (WHERE c.passed AND c.window_id IS NULL), '{}'),"
        " coalesce(array_agg(DISTINCT c.variant) FILTER (WHERE NOT c.passed AND c.variant <> ''), '{}')"
        " FROM campaign_runs r LEFT JOIN campaign_checks c ON c.run_id = r.run_id"
        " WHERE r.finished_at IS NOT NULL GROUP BY r.run_id ORDER BY r.started_at",
    ).fetchall()
    return tuple(
        RunSummary(
            str(i),
            str(k),
            int(w),
            bool(p),
            int(a),
            frozenset(str(n) for n in names),
            frozenset(str(v) for v in bad),
        )
        for i, k, w, p, a, names, bad in runs
    )


def scratch_database(database_url: str, name: str) -> str:
    """A new database `name` on the same server, for a campaign's own trading rows (orders, fills,
    positions of its simulator accounts), so they never meet the operator's LIVE rows (a later LIVE
    start would reconcile them against its venue and open the breaker). Returns its URL."""
    from urllib.parse import urlsplit

    from psycopg import sql

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return urlsplit(database_url)._replace(path=f"/{name}").geturl()
