"""GET /api/v1/problems.geojson: problems as a GeoJSON FeatureCollection (RFC 7946).

Points are [longitude, latitude], as GeoJSON requires. Merged duplicates are left out (the
problem they were merged into is there). At most `limit` features, newest first (default
1000, at most 5000); `"truncated": true` (a foreign member) says more matched, so a map can
ask again for a smaller `bbox`. Filters: `bbox=minlon,minlat,maxlon,maxlat`, and `category`
and `status`, each one name or several comma-separated.

A malformed bbox is a 400 naming the `bbox` field; an unknown category or status, or a bad
limit, is a 422 like the other lists' filters.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from flask import Response, current_app, request, url_for

from api import bp
from api.parsing import WrongType, bbox_arg, int_arg, read_args
from challenges.models import ProblemStatus
from extensions import db
from maps.services import map_points_select
from pagecache import for_visitors
from timeutil import isoformat

CONTENT_TYPE = "application/geo+json"
DEFAULT_LIMIT = 1000
MAX_LIMIT = 5000


def names_arg(options: Iterable[str]) -> Callable[[str | None], list[str]]:
    """One name or several, comma-separated, each one of `options`; none means all."""
    options = tuple(options)

    def read(raw: str | None) -> list[str]:
        names = [name.strip() for name in (raw or "").split(",") if name.strip()]
        unknown = [name for name in names if name not in options]
        if unknown:
            raise WrongType(f"Unknown: {', '.join(unknown)}. Choose from: {', '.join(options)} "
                            "(several may be given, comma-separated).")
        return names
    return read


def problem_url_maker() -> Callable[[int], str]:
    """The problem page's full URL for an id, built by url_for once per response rather
    than once per feature (a thousand url_for calls were a third of the response's time)."""
    marker = 987654321
    before, after = url_for("challenges.problem", problem_id=marker, _external=True).split(str(marker))
    return lambda problem_id: f"{before}{problem_id}{after}"


def feature(row, problem_url: Callable[[int], str] | None = None) -> dict:
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": {"type": "Point", "coordinates": [row.lon, row.lat]},
        "properties": {
            "id": row.id,
            "title": row.title,
            "category": row.category,
            "status": row.status,
            "url": problem_url(row.id) if problem_url else url_for("challenges.problem", problem_id=row.id,
                                                                    _external=True),
            "confirmations_count": row.confirmations_count,
            "subscribers_count": row.subscribers_count,
            "created_at": isoformat(row.created_at),
        },
    }


@bp.get("/problems.geojson")
@for_visitors
def problems_geojson():
    bbox = bbox_arg()
    args = read_args(category=names_arg(current_app.config["CATEGORIES"]),
                     status=names_arg(s.value for s in ProblemStatus),
                     limit=int_arg(default=DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT))
    stmt = map_points_select(categories=args["category"], statuses=args["status"], bbox=bbox)
    rows = db.session.execute(stmt.limit(args["limit"] + 1)).all()
    problem_url = problem_url_maker()
    body = {"type": "FeatureCollection", "features": [feature(row, problem_url) for row in rows[:args["limit"]]],
            "truncated": len(rows) > args["limit"]}
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                    content_type=CONTENT_TYPE)  # JSON is UTF-8; the type takes no charset
