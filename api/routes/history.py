"""GET /api/history/{kind}: orders, fills, positions, the audit log and window settlements, filtered
(since, until, window_id, mode, limit), as JSON or CSV (`format=csv`, a download)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import Response
from pydantic import AwareDatetime, BaseModel

from api.text import StoredText
from core.enums import TradingMode
from sinks.postgres.history_reads import HistoryFilter, HistoryKind, read_history

__all__ = ["router"]

router = APIRouter(tags=["history"])


class Format(StrEnum):
    json = "json"
    csv = "csv"


class History(BaseModel):
    kind: HistoryKind
    columns: list[str]
    rows: list[dict[str, Any]]


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


@router.get(
    "/api/history/{kind}",
    response_model=History,
    responses={200: {"content": {"text/csv": {}}}, 400: {"description": "a filter the kind does not have"}},
)
def history(
    request: Request,
    kind: HistoryKind,
    since: Annotated[AwareDatetime | None, Query(description="from this time (inclusive)")] = None,
    until: Annotated[AwareDatetime | None, Query(description="before this time")] = None,
    window_id: Annotated[StoredText | None, Query(max_length=200)] = None,
    mode: TradingMode | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    format: Format = Format.json,
) -> Response:
    """Newest first. Money is a decimal string; times are UTC ISO 8601."""
    if since is not None and until is not None and since >= until:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "since must be before until")
    where = HistoryFilter(since, until, window_id, None if mode is None else mode.value, limit)
    try:
        with request.app.state.pool.connection() as conn:
            columns, rows = read_history(conn, kind, where)
    except ValueError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
    if format is Format.csv:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows([[_plain(v) for v in row] for row in rows])
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{kind.value}.csv"'},
        )
    body = History(
        kind=kind,
        columns=columns,
        rows=[{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in rows],
    )
    return Response(body.model_dump_json(), media_type="application/json")
