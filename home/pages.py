"""The home page's two faces (web.home renders it): for a participant, what they can do now;
for a visitor, the town's open problems and how to join in. Both show the place's impact."""
from __future__ import annotations

import time

from flask import current_app, request, url_for
from flask_login import current_user

from challenges import geo
from challenges.geo import BadArea
from extensions import db
from home import services
from maps.area import Circle, parse_number
from maps.services import public_problems_select
from maps.views import UNRESOLVED

BROWSER_RADIUS_M = 2_000  # around a location the browser sent, when there is no saved area
OPEN_PROBLEMS = 8
HOME_MAP_LIMIT = 300  # markers on the home page's small map (the full map page has clusters)


def location_from_query() -> tuple[Circle | None, str | None]:
    """`?lat=&lon=` sent by static/js/home.js: a circle around it, or a message why not."""
    if "lat" not in request.args and "lon" not in request.args:
        return None, None
    try:
        lat = parse_number("lat", request.args.get("lat"), what="a latitude")
        lon = parse_number("lon", request.args.get("lon"), what="a longitude")
        geo.check_circle(lat, lon, BROWSER_RADIUS_M)
    except BadArea:
        return None, "We could not read that location, so here are all the open quests."
    return Circle(lat, lon, BROWSER_RADIUS_M), None


def participant_context() -> dict:
    area, where = services.saved_area(db.session, current_user.id), "your area"
    location_error = None
    if area is None:
        area, location_error = location_from_query()
        where = "you"
    return {
        "area": area, "where": where, "location_error": location_error,
        "near": services.quests_near(db.session, area=area) if area else None,
        "radius_km": BROWSER_RADIUS_M // 1000,
    }


def visitor_context() -> dict:
    statuses = UNRESOLVED.split(",")
    open_problems = db.session.scalars(public_problems_select(statuses=statuses).limit(OPEN_PROBLEMS)).all()
    return {"open_problems": open_problems, "unresolved": UNRESOLVED,
            "data_url": url_for("api.problems_geojson", status=UNRESOLVED, limit=HOME_MAP_LIMIT)}


_impact_cache: dict[str, tuple[float, services.Impact]] = {}


def cached_impact(zone: str) -> services.Impact:
    """The place's impact numbers, read at most once a minute per worker process
    (IMPACT_CACHE_SECONDS; 0, as in tests, reads them every time): counting every fix
    ever made is the home page's one query that grows with the data, and the numbers need
    not be live to the second."""
    ttl = current_app.config.get("IMPACT_CACHE_SECONDS", 0 if current_app.testing else 60)
    now = time.monotonic()
    found = _impact_cache.get(zone)
    if ttl and found and now - found[0] < ttl:
        return found[1]
    fresh = services.impact(db.session, zone=zone)
    if ttl:
        _impact_cache[zone] = (now, fresh)
    return fresh


def home_context() -> dict:
    from scoring.views import board_rows

    config = current_app.config
    context = participant_context() if current_user.is_authenticated else visitor_context()
    if current_user.is_authenticated and current_user.is_admin:
        steps = services.first_run(db.session)
        context["first_run"] = None if steps.done else steps
    return context | {
        "closing": services.closing_soon(db.session),
        "impact": cached_impact(config["TIMEZONE"]),
        "place": config.get("PLACE_NAME") or "Our town",
        "top": board_rows("participants", limit=5),
    }
