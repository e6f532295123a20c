"""Gamma routes (mounted at `/gamma`): window discovery as POLYMARKET.md §2.2 describes it.

`gamma_app(registry)` is a Starlette sub-application; the server mounts it with
`app.mount("/gamma", gamma_app(registry))`. Lists clamp `limit` silently, as Gamma does, so a
client must page until a short page; unknown filters are ignored, bad booleans/dates are a 400.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from simulator.gamma_objects import event_json, market_json
from simulator.windows import Window, WindowRegistry

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class GammaSettings:
    default_limit: int = 20
    max_limit: int = 500


class BadQuery(ValueError):
    pass


def _bool(request: Request, key: str) -> bool | None:
    raw = request.query_params.get(key)
    if raw is None or raw == "":
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise BadQuery(f"invalid boolean for {key}: {raw}")


def _date(request: Request, key: str) -> datetime | None:
    raw = request.query_params.get(key)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadQuery(f"invalid date for {key}: {raw}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _int(request: Request, key: str, default: int) -> int:
    raw = request.query_params.get(key)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise BadQuery(f"invalid integer for {key}: {raw}") from exc


def _many(request: Request, key: str) -> set[str]:
    """Repeatable filters; a comma list in one value is accepted too."""
    return {part for value in request.query_params.getlist(key) for part in value.split(",") if part}


def _stamp(text: Any) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _keep(obj: Json, request: Request) -> bool:
    """The filters both lists share, applied to the rendered object."""
    for key in ("active", "closed", "archived"):
        wanted = _bool(request, key)
        if wanted is not None and bool(obj.get(key)) != wanted:
            return False
    for key, field in (("start_date", "startDate"), ("end_date", "endDate")):
        lo, hi = _date(request, f"{key}_min"), _date(request, f"{key}_max")
        value = _stamp(obj.get(field))
        if (lo or hi) and value is None:
            return False
        if value is not None and ((lo and value < lo) or (hi and value > hi)):
            return False
    return True


def _tags_match(event: Json, request: Request) -> bool:
    slugs, ids = _many(request, "tag_slug"), _many(request, "tag_id")
    tags = event.get("tags") or []
    if slugs and not any(t.get("slug") in slugs for t in tags):
        return False
    return not (ids and not any(t.get("id") in ids for t in tags))


def _page(items: list[Json], request: Request, settings: GammaSettings) -> list[Json]:
    order = request.query_params.get("order")
    if order:
        ascending = _bool(request, "ascending")
        fields = [f for f in order.split(",") if f]
        items.sort(key=lambda o: tuple(str(o.get(f, "")) for f in fields), reverse=ascending is False)
    limit = max(0, min(_int(request, "limit", settings.default_limit), settings.max_limit))
    offset = max(0, _int(request, "offset", 0))
    return items[offset : offset + limit]


def _candidates(registry: WindowRegistry, request: Request) -> list[Window]:
    """Listed windows narrowed by the indexed filters first (slug, condition, token, id)."""
    windows = registry.listed()
    slugs, conditions = _many(request, "slug"), _many(request, "condition_ids")
    tokens, ids = _many(request, "clob_token_ids"), _many(request, "id")
    if slugs:
        windows = [w for w in windows if w.slug in slugs]
    if conditions:
        windows = [w for w in windows if w.condition_id in conditions]
    if tokens:
        windows = [w for w in windows if tokens.intersection(w.token_ids)]
    if ids:
        windows = [w for w in windows if w.market_id in ids or w.event_id in ids]
    windows.sort(key=lambda w: (w.created_at, w.slug))
    return windows


def gamma_app(
    registry: WindowRegistry,
    settings: GammaSettings | None = None,
    now: Callable[[], datetime | None] | None = None,
) -> Starlette:
    """Gamma on the registry; objects are rendered as of `now()` (default: the registry's time)."""
    conf = settings or GammaSettings()
    clock = now or (lambda: registry.now)

    def at() -> datetime:
        return clock() or datetime.min.replace(tzinfo=UTC)

    def guarded(handler: Callable[[Request], JSONResponse]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> JSONResponse:
            try:
                return handler(request)
            except BadQuery as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)

        return endpoint

    def not_found() -> JSONResponse:
        return JSONResponse({"type": "not found error", "error": "not found"}, status_code=404)

    def markets(request: Request) -> JSONResponse:
        moment = at()
        rendered = [market_json(w, moment, registry.settings) for w in _candidates(registry, request)]
        if _many(request, "tag_slug") or _many(request, "tag_id"):
            allowed = {
                w.slug
                for w in registry.listed()
                if _tags_match(event_json(w, moment, registry.settings), request)
            }
            rendered = [m for m in rendered if m.get("slug") in allowed]
        return JSONResponse(_page([m for m in rendered if _keep(m, request)], request, conf))

    def events(request: Request) -> JSONResponse:
        moment = at()
        rendered = [event_json(w, moment, registry.settings) for w in _candidates(registry, request)]
        series = _many(request, "series_slug")
        kept = [
            e
            for e in rendered
            if _keep(e, request) and _tags_match(e, request) and (not series or e.get("seriesSlug") in series)
        ]
        return JSONResponse(_page(kept, request, conf))

    def market_by_slug(request: Request) -> JSONResponse:
        window = registry.get(request.path_params["slug"])
        if window is None or not registry.is_listed(window):
            return not_found()
        return JSONResponse(market_json(window, at(), registry.settings))

    def event_by_slug(request: Request) -> JSONResponse:
        window = registry.get(request.path_params["slug"])
        if window is None or not registry.is_listed(window):
            return not_found()
        return JSONResponse(event_json(window, at(), registry.settings))

    routes = [
        Route("/markets", guarded(markets)),
        Route("/markets/slug/{slug}", guarded(market_by_slug)),
        Route("/events", guarded(events)),
        Route("/events/slug/{slug}", guarded(event_by_slug)),
    ]
    return Starlette(routes=routes)
