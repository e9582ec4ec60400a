"""Which problems the public map, the GeoJSON layer and the Atom feeds show.

Merged duplicates are left out everywhere here: their history, confirmations and followers
live on in the problem they were merged into, which is shown instead.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from challenges import geo
from challenges.models import Problem
from maps.area import Area, BBox, Circle
from moderation.visibility import public_problems

# Positions read per round trip while looking for the newest problems inside a circle.
_CIRCLE_BATCH = 500


def newest_first(stmt: Select) -> Select:
    return stmt.order_by(Problem.created_at.desc(), Problem.id.desc())


def public_filters(*, categories: Iterable[str] = (), statuses: Iterable[str] = (),
                   bbox: BBox | None = None) -> list[ColumnElement[bool]]:
    """WHERE clauses: not merged, in any of `categories` and `statuses` (all when empty), and
    inside `bbox`."""
    categories, statuses = list(categories), list(statuses)
    clauses: list[ColumnElement[bool]] = [Problem.merged_into_id.is_(None), public_problems()]
    if categories:
        clauses.append(Problem.category.in_(categories))
    if statuses:
        clauses.append(Problem.status.in_(statuses))
    if bbox is not None:
        clauses.append(in_bbox(bbox))
    return clauses


def in_bbox(bbox: BBox) -> ColumnElement[bool]:
    lon = (or_(Problem.lon >= bbox.min_lon, Problem.lon <= bbox.max_lon) if bbox.crosses_antimeridian
           else Problem.lon.between(bbox.min_lon, bbox.max_lon))
    return and_(Problem.lat.between(bbox.min_lat, bbox.max_lat), lon)


def in_cells_of(circle: Circle) -> ColumnElement[bool]:
    """The grid cells covering the circle (an index range scan each): a superset of it."""
    return or_(*(Problem.cell.between(first, last)
                 for first, last in geo.cell_ranges(circle.lat, circle.lon, circle.radius_m)))


def public_problems_select(*, categories: Iterable[str] = (), statuses: Iterable[str] = ()) -> Select:
    """Problems for the map page's list, newest first; for db.paginate."""
    return newest_first(select(Problem).where(*public_filters(categories=categories, statuses=statuses)))


def newest_problem_ids(session: Session, *, categories: Sequence[str] = (), area: Area | None = None,
                       limit: int) -> list[int]:
    """Ids of the newest `limit` public problems, in `area` if given, newest first.

    A circle is read as its covering grid cells, newest first, in batches of positions only,
    keeping those within the radius by haversine distance until `limit` are found."""
    clauses = public_filters(categories=categories, bbox=area if isinstance(area, BBox) else None)
    if not isinstance(area, Circle):
        return list(session.scalars(newest_first(select(Problem.id).where(*clauses)).limit(limit)))
    stmt = newest_first(select(Problem.id, Problem.lat, Problem.lon, Problem.created_at)
                        .where(*clauses, in_cells_of(area))).limit(_CIRCLE_BATCH)
    found: list[int] = []
    batch = session.execute(stmt).all()
    while batch:
        found.extend(row.id for row in batch if area.contains(row.lat, row.lon))
        if len(found) >= limit or len(batch) < _CIRCLE_BATCH:
            break
        last = batch[-1]  # keyset: carry on after the oldest row read so far
        batch = session.execute(stmt.where(or_(
            Problem.created_at < last.created_at,
            and_(Problem.created_at == last.created_at, Problem.id < last.id)))).all()
    return found[:limit]


def map_points_select(*, categories: Iterable[str] = (), statuses: Iterable[str] = (),
                      bbox: BBox | None = None) -> Select:
    """The columns a map marker needs (no ORM objects, so thousands stay cheap), newest first."""
    return newest_first(select(
        Problem.id, Problem.title, Problem.category, Problem.status, Problem.lat, Problem.lon,
        Problem.confirmations_count, Problem.subscribers_count, Problem.created_at,
    ).where(*public_filters(categories=categories, statuses=statuses, bbox=bbox)))
