"""Atom feeds under /feeds/: newest problems site-wide, in a category or in an area, and
each problem's updates. Public, cacheable for a few minutes, and answered with 304 Not
Modified when a reader sends back the ETag or date it was given."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, request, url_for

from challenges.geo import BadArea
from challenges.models import Problem
from extensions import db
from feeds import atom, services
from feeds.entries import problem_entry, problem_url, tag, update_entry
from maps.area import BBox, parse_area
from timeutil import utcnow

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

SITE = "FixQuest"
MAX_AGE_S = 300


def atom_response(feed: atom.Feed) -> Response:
    response = Response(atom.render(feed), content_type=atom.CONTENT_TYPE)
    response.last_modified = feed.updated
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE_S
    response.add_etag()
    return response.make_conditional(request)


def problems_feed(*, id: str, title: str, alternate_url: str, rows: list[services.Reported],
                  subtitle: str | None = None) -> Response:
    entries = [problem_entry(row) for row in rows]
    return atom_response(atom.Feed(
        id=id, title=title, subtitle=subtitle, updated=atom.latest(entries, fallback=utcnow()),
        self_url=request.url, alternate_url=alternate_url, author=SITE, entries=entries))


@bp.get("/problems.atom")
def problems():
    return problems_feed(id=tag("problems"), title=f"{SITE}: newest problems",
                         alternate_url=url_for("challenges.problems", _external=True),
                         rows=services.newest_problems(db.session))


@bp.get("/category/<category>.atom")
def category(category: str):
    if category not in current_app.config["CATEGORIES"]:
        abort(404)
    return problems_feed(id=tag(f"category/{category}"), title=f"{SITE}: new {category} problems",
                         alternate_url=url_for("challenges.problems", category=category, _external=True),
                         rows=services.newest_problems(db.session, category=category))


@bp.get("/area.atom")
def area():
    try:
        place = parse_area(request.args)
    except BadArea as error:
        return Response(f"{error.field}: {error.message}\n", 400, content_type="text/plain; charset=utf-8")
    key = f"bbox={place.as_param()}" if isinstance(place, BBox) else "&".join(
        f"{name}={value}" for name, value in place.as_params().items())
    return problems_feed(id=tag(f"area?{key}"), title=f"{SITE}: new problems {place.describe()}",
                         alternate_url=url_for("maps.map_page", _external=True),
                         rows=services.newest_problems(db.session, area=place))


@bp.get("/problems/<int:problem_id>.atom")
def problem(problem_id: int):
    problem = db.session.get(Problem, problem_id)
    if problem is None or problem.visibility != "public":  # hidden or held: not in any feed
        abort(404)
    if problem.merged_into_id is not None:  # its history now lives on the survivor
        return redirect(url_for("feeds.problem", problem_id=problem.merged_into_id), code=301)
    entries = [update_entry(row, problem) for row in services.problem_updates(db.session, problem)]
    return atom_response(atom.Feed(
        id=tag(f"problem/{problem.id}/updates"), title=f"{SITE}: problem #{problem.id}: {problem.title}",
        subtitle=f"Every update to this {problem.category} problem, now {problem.status.replace('_', ' ')}.",
        updated=atom.latest(entries, fallback=problem.created_at), self_url=request.url,
        alternate_url=problem_url(problem.id), author=SITE, entries=entries))
