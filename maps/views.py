"""The map page: problems on a Leaflet map, and the same problems as a plain list.

The list is the page; the map is drawn over it by static/js/problem-map.js from the GeoJSON
layer (GET /api/v1/problems.geojson) with the same filters. Without JavaScript or map tiles
the filter form and the paginated list still work.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for

from challenges.models import RESOLVED_STATES, ProblemStatus
from extensions import db
from maps.services import public_problems_select
from pagecache import for_visitors

bp = Blueprint("maps", __name__)

STATUSES = tuple(s.value for s in ProblemStatus)
UNRESOLVED = ",".join(s for s in STATUSES if s not in RESOLVED_STATES)


def status_filter(raw: str | None) -> list[str]:
    """`status` may name several statuses, comma-separated; unknown names are ignored."""
    return [s for s in STATUSES if s in (raw or "").split(",")]


@bp.get("/map")
@for_visitors
def map_page():
    category = request.args.get("category") or None
    category = category if category in current_app.config["CATEGORIES"] else None
    statuses = status_filter(request.args.get("status"))
    status = ",".join(statuses) or None
    page = db.paginate(public_problems_select(categories=[category] if category else [], statuses=statuses),
                       per_page=current_app.config["PAGE_SIZE"], max_per_page=100)
    filters = {"category": category, "status": status}
    return render_template(
        "maps/map.html", page=page, category=category, status=status, statuses=STATUSES,
        unresolved=UNRESOLVED, categories=current_app.config["CATEGORIES"],
        data_url=url_for("api.problems_geojson", **filters),
        feed_url=url_for("feeds.category", category=category) if category else url_for("feeds.problems"))
