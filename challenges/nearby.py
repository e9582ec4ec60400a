"""Unresolved problems near a point: what someone about to report a problem should see first.

A lookup reads in two steps, both on indexes:

1. Candidates' positions only (id, lat, lon, updated_at): one index range scan per run of
   grid cells covering the circle (challenges/geo.py), narrowed in SQL by a latitude and
   longitude box around the circle, by state and by category. Their exact haversine
   distances are computed here; those outside the circle are dropped, the rest sorted
   nearest first.
2. The `limit` nearest as full rows, by primary key.

Positions first keeps a crowded circle cheap (tuples, not ORM objects, for every candidate)
and makes the common case, nothing nearby, a single query.

A wide circle is searched in growing rings (100 m, 300 m, 900 m ...) that stop as soon as one
holds `limit` problems: everything inside a ring is nearer than everything outside it, so
those are the nearest in the whole circle. A 5 km circle in a city centre then reads a few
hundred positions instead of a few hundred thousand; in open country, where there is little
to read, it costs a few more (cheap) queries.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select, union_all
from sqlalchemy.orm import Session

from challenges import geo
from challenges.models import RESOLVED_STATES, Problem
from moderation.models import PUBLIC

FIRST_RING_M = 100
RING_GROWTH = 3
# Widens the latitude/longitude box by about a millimetre, so that rounding in the box
# arithmetic can never drop a problem that haversine puts inside the circle.
_BOX_MARGIN_DEG = 1e-8


@dataclass(frozen=True)
class Nearby:
    problem: Problem
    distance_m: float


@dataclass(frozen=True)
class _Candidate:
    id: int
    distance_m: float
    updated_at: datetime

    def sort_key(self) -> tuple[float, float, int]:
        """Nearest first; at the same distance the most recently active, then the newest."""
        return (self.distance_m, -self.updated_at.timestamp(), -self.id)


def find_nearby(session: Session, *, lat: float, lon: float, radius_m: float = 50,
                category: str | None = None, limit: int = 20,
                exclude_id: int | None = None) -> list[Nearby]:
    """Unresolved, unmerged problems within `radius_m` metres of (lat, lon), nearest first
    (at equal distance, the most recently active first), at most `limit` of them.

    Raises geo.BadArea, naming the field, for coordinates or a radius that describe no
    circle FixQuest searches; callers turn it into a 4xx naming that field.
    """
    geo.check_circle(lat, lon, radius_m)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ValueError(f"limit must be a positive whole number, not {limit!r}")
    ring = min(radius_m, FIRST_RING_M)
    while True:
        candidates = _candidates(session, lat=lat, lon=lon, radius_m=ring, category=category,
                                 exclude_id=exclude_id)
        if len(candidates) >= limit or ring >= radius_m:
            break
        ring = min(radius_m, ring * RING_GROWTH)
    nearest = sorted(candidates, key=_Candidate.sort_key)[:limit]
    if not nearest:
        return []
    loaded = {problem.id: problem for problem in session.scalars(
        select(Problem).where(Problem.id.in_([c.id for c in nearest])))}
    # One resolved or merged between the two reads is left out rather than shown stale.
    return [Nearby(loaded[c.id], c.distance_m) for c in nearest
            if c.id in loaded and _is_open(loaded[c.id].status, loaded[c.id].merged_into_id)]


def bounding_box(lat: float, lon: float,
                 radius_m: float) -> tuple[float, float, list[tuple[float, float]] | None]:
    """(south, north, longitude intervals) enclosing the circle on the sphere haversine uses,
    plus a hair. The intervals are None when the circle reaches a pole (every longitude can
    be inside), and there are two when it crosses the antimeridian."""
    angle = radius_m / geo.EARTH_RADIUS_M
    dlat = math.degrees(angle) + _BOX_MARGIN_DEG
    south, north = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    if north >= 90 or south <= -90:
        return south, north, None
    ratio = math.sin(angle) / math.cos(math.radians(lat))  # the cap's widest point
    if ratio >= 1:
        return south, north, None
    dlon = math.degrees(math.asin(ratio)) + _BOX_MARGIN_DEG
    west, east = lon - dlon, lon + dlon
    if west < -180:
        return south, north, [(west + 360, 180.0), (-180.0, east)]
    if east > 180:
        return south, north, [(west, 180.0), (-180.0, east - 360)]
    return south, north, [(west, east)]


def _is_open(status: str, merged_into_id: int | None) -> bool:
    return status not in RESOLVED_STATES and merged_into_id is None


def _candidates(session: Session, *, lat: float, lon: float, radius_m: float,
                category: str | None, exclude_id: int | None) -> list[_Candidate]:
    """Every open problem within `radius_m`, unsorted."""
    south, north, lon_intervals = bounding_box(lat, lon, radius_m)
    # `merged_into_id IS NULL` is checked below, not in SQL: SQLite takes it for a selective
    # equality and answers from ix_problems_merged_into_id, reading nearly every row. (Merged
    # problems are closed, so the status condition drops them already.)
    conditions: list[ColumnElement[bool]] = [Problem.status.not_in(RESOLVED_STATES),
                                             Problem.lat.between(south, north)]
    if lon_intervals is not None:
        conditions.append(or_(*(Problem.lon.between(west, east) for west, east in lon_intervals)))
    if category is not None:
        conditions.append(Problem.category == category)
    if exclude_id is not None:
        conditions.append(Problem.id != exclude_id)
    conditions.append(Problem.visibility == PUBLIC)  # hidden and held problems are never suggested
    columns = (Problem.id, Problem.lat, Problem.lon, Problem.updated_at, Problem.merged_into_id)
    runs = [Problem.cell.between(first, last) for first, last in geo.cell_ranges(lat, lon, radius_m)]
    found = []
    for row in session.execute(_read_runs(session, columns, runs, conditions)):
        if row.merged_into_id is not None:
            continue
        distance = geo.haversine_m(lat, lon, row.lat, row.lon)
        if distance <= radius_m:
            found.append(_Candidate(row.id, distance, row.updated_at))
    return found


def _read_runs(session: Session, columns, runs: list[ColumnElement[bool]],
               conditions: list[ColumnElement[bool]]):
    """One statement reading every run of cells with an index range scan.

    PostgreSQL: the runs OR-ed in one WHERE (a BitmapOr of index scans). SQLite: one SELECT
    per run joined by UNION ALL (the runs never overlap), because with the runs OR-ed SQLite
    (without ANALYZE statistics) reads a whole category from ix_problems_category_cell once
    a circle spans a dozen rows of cells. On PostgreSQL the UNION ALL costs more: planning
    a 5 km circle's 90 SELECTs took 5 ms and started parallel workers, against under 1 ms.
    """
    if len(runs) == 1 or session.get_bind().dialect.name != "sqlite":
        return select(*columns).where(or_(*runs), *conditions)
    return union_all(*(select(*columns).where(run, *conditions) for run in runs))
