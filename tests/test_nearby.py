"""find_nearby: open problems near a point, nearest first, on the database under test."""
from __future__ import annotations

import math
import random
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from challenges import geo
from challenges import services as challenges
from challenges.models import RESOLVED_STATES, Problem
from challenges.nearby import Nearby, find_nearby
from extensions import db
from tests.factories import make_organiser, make_problem, make_user
from tests.test_geo import destination
from timeutil import utcnow

HERE = (51.4545, -2.5879)  # Broad Street, Bristol
CATEGORIES = ("pothole", "litter", "graffiti", "other")


def problem_at(reporter, lat: float, lon: float, bearing: float = 0.0, distance_m: float = 0.0, **kw) -> Problem:
    plat, plon = destination(lat, lon, bearing, distance_m)
    return make_problem(reporter, lat=plat, lon=plon, **kw)


def ids(found: list[Nearby]) -> list[int]:
    return [n.problem.id for n in found]


def test_finds_problems_inside_the_radius_but_not_outside(ctx):
    reporter = make_user()
    inside = problem_at(reporter, *HERE, bearing=0, distance_m=45)
    problem_at(reporter, *HERE, bearing=90, distance_m=55)
    found = find_nearby(db.session, lat=HERE[0], lon=HERE[1], radius_m=50)
    assert ids(found) == [inside.id]
    assert found[0].distance_m == pytest.approx(45, abs=1e-6)
    assert find_nearby(db.session, lat=HERE[0], lon=HERE[1], radius_m=60)[1].distance_m == pytest.approx(55, abs=1e-6)


def test_nearest_first_then_most_recently_active(ctx):
    reporter = make_user()
    now = utcnow()
    far = problem_at(reporter, *HERE, bearing=10, distance_m=30, now=now)
    near = problem_at(reporter, *HERE, bearing=200, distance_m=10, now=now)
    middle = problem_at(reporter, *HERE, bearing=300, distance_m=20, now=now)
    same_spot_older = problem_at(reporter, *HERE, bearing=100, distance_m=25, now=now - timedelta(days=3))
    same_spot_newer = problem_at(reporter, *HERE, bearing=100, distance_m=25, now=now - timedelta(days=1))
    found = find_nearby(db.session, lat=HERE[0], lon=HERE[1])
    assert ids(found) == [near.id, middle.id, same_spot_newer.id, same_spot_older.id, far.id]
    assert [round(n.distance_m) for n in found] == [10, 20, 25, 25, 30]


def test_limit_keeps_the_nearest(ctx):
    reporter = make_user()
    made = [problem_at(reporter, *HERE, bearing=40 * n, distance_m=5 + 5 * n) for n in range(6)]
    assert ids(find_nearby(db.session, lat=HERE[0], lon=HERE[1], limit=2)) == [made[0].id, made[1].id]
    with pytest.raises(ValueError):
        find_nearby(db.session, lat=HERE[0], lon=HERE[1], limit=0)


def test_a_wide_circle_still_gives_the_nearest_of_all(ctx):
    """Wide circles are searched in growing rings; the answer is the same as one big search."""
    reporter = make_user()
    made = [problem_at(reporter, *HERE, bearing=37 * n, distance_m=20 + 140 * n) for n in range(30)]
    found = find_nearby(db.session, lat=HERE[0], lon=HERE[1], radius_m=geo.MAX_RADIUS_M, limit=7)
    assert ids(found) == [p.id for p in made[:7]]
    everything = find_nearby(db.session, lat=HERE[0], lon=HERE[1], radius_m=geo.MAX_RADIUS_M, limit=100)
    assert ids(everything) == [p.id for p in made]


def test_category_filter(ctx):
    reporter = make_user()
    pothole = problem_at(reporter, *HERE, distance_m=10, category="pothole")
    litter = problem_at(reporter, *HERE, distance_m=20, category="litter")
    assert ids(find_nearby(db.session, lat=HERE[0], lon=HERE[1], category="litter")) == [litter.id]
    assert ids(find_nearby(db.session, lat=HERE[0], lon=HERE[1], category="pothole")) == [pothole.id]
    assert ids(find_nearby(db.session, lat=HERE[0], lon=HERE[1])) == [pothole.id, litter.id]
    assert find_nearby(db.session, lat=HERE[0], lon=HERE[1], category="graffiti") == []


def test_resolved_and_merged_problems_are_left_out(ctx):
    reporter, organiser = make_user(), make_organiser()
    kept = {}
    for n, status in enumerate(("open", "confirmed", "in_progress", "fixed", "closed")):
        problem = problem_at(reporter, *HERE, bearing=70 * n, distance_m=5 + n)
        if status != "open":
            challenges.change_status(db.session, actor=organiser, problem=problem, status=status)
        kept[status] = problem.id
    # Merged but (unusually) left open: the merge alone is enough to leave it out.
    merged = problem_at(reporter, *HERE, distance_m=1)
    merged.merged_into_id = kept["open"]
    db.session.commit()
    found = find_nearby(db.session, lat=HERE[0], lon=HERE[1])
    assert ids(found) == [kept["open"], kept["confirmed"], kept["in_progress"]]
    assert set(RESOLVED_STATES) == {"fixed", "closed"}


def test_exclude_id_leaves_that_problem_out(ctx):
    reporter = make_user()
    mine = problem_at(reporter, *HERE)
    other = problem_at(reporter, *HERE, distance_m=10)
    assert ids(find_nearby(db.session, lat=HERE[0], lon=HERE[1], exclude_id=mine.id)) == [other.id]


@pytest.mark.parametrize("here_lon,there_lon", [(-179.9999, 179.9999), (179.9999, -179.9999), (-179.9999, 180.0)])
def test_finds_across_the_antimeridian(ctx, here_lon, there_lon):
    problem = make_problem(make_user(), lat=-16.8, lon=there_lon)
    found = find_nearby(db.session, lat=-16.8, lon=here_lon, radius_m=50)
    assert ids(found) == [problem.id]
    assert found[0].distance_m == pytest.approx(geo.haversine_m(-16.8, here_lon, -16.8, there_lon))
    assert found[0].distance_m < 25


@pytest.mark.parametrize("pole", [90.0, -90.0])
def test_near_a_pole_finds_across_longitudes(ctx, pole):
    reporter = make_user()
    near = math.copysign(89.9999, pole)  # about 11 m from the pole
    made = [make_problem(reporter, lat=near, lon=lon) for lon in (-179.5, -90.0, 0.0, 90.0, 179.5)]
    far = make_problem(reporter, lat=math.copysign(89.999, pole), lon=0.0)  # about 111 m out
    everything = {p.id for p in made}
    assert set(ids(find_nearby(db.session, lat=near, lon=45.0, radius_m=50))) == everything
    assert set(ids(find_nearby(db.session, lat=pole, lon=0.0, radius_m=50))) == everything
    assert set(ids(find_nearby(db.session, lat=pole, lon=123.0, radius_m=150))) == everything | {far.id}


@pytest.mark.parametrize("search,field", [
    (dict(lat=91, lon=0), "lat"), (dict(lat=-90.01, lon=0), "lat"), (dict(lat=math.nan, lon=0), "lat"),
    (dict(lat=0, lon=180.5), "lon"), (dict(lat=0, lon="east"), "lon"),
    (dict(lat=0, lon=0, radius_m=0), "radius_m"), (dict(lat=0, lon=0, radius_m=10_000), "radius_m"),
])
def test_an_impossible_circle_raises_bad_area_naming_the_field(ctx, search, field):
    with pytest.raises(geo.BadArea) as raised:
        find_nearby(db.session, **search)
    assert raised.value.field == field


def count_statements(fn):
    """fn()'s result and the number of SQL statements it ran (in this thread only: background
    jobs may be using the engine at the same time)."""
    statements: list[str] = []
    me = threading.get_ident()

    def count(conn, cursor, statement, *args):
        if threading.get_ident() == me:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        result = fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return result, len(statements)


def test_two_queries_however_many_are_found_and_one_when_none_are(ctx):
    reporter = make_user()
    for n in range(8):
        problem_at(reporter, *HERE, bearing=45 * n, distance_m=5 + 4 * n)
    db.session.expire_all()
    found, queries = count_statements(lambda: find_nearby(db.session, lat=HERE[0], lon=HERE[1]))
    assert len(found) == 8 and queries == 2
    assert [n.problem.title for n in found]  # loaded: reading them costs nothing more
    _, queries = count_statements(lambda: find_nearby(db.session, lat=10.0, lon=10.0))
    assert queries == 1


# --- the property: the same answer as measuring every row ----------------------------------

def brute_force(rows: list[Problem], *, lat, lon, radius_m, category, limit) -> list[tuple[int, float]]:
    hits = []
    for p in rows:
        if p.status in RESOLVED_STATES or p.merged_into_id is not None:
            continue
        if category is not None and p.category != category:
            continue
        distance = geo.haversine_m(lat, lon, p.lat, p.lon)
        if distance <= radius_m:
            hits.append((distance, -p.updated_at.timestamp(), -p.id))
    return [(-ident, distance) for distance, _, ident in sorted(hits)[:limit]]


@pytest.mark.parametrize("centre", [HERE, (-16.8, 179.999), (89.995, 0.0)],
                         ids=["bristol", "antimeridian", "north-pole"])
def test_same_answer_as_a_brute_force_search_over_every_row(ctx, centre):
    rng = random.Random(f"nearby {centre}")
    reporter = make_user()
    start = utcnow()
    made: list[Problem] = []
    for n in range(160):
        lat, lon = destination(*centre, rng.uniform(0, 360), 800 * math.sqrt(rng.random()))
        if n % 8 == 0 and made:  # some exact duplicates of an earlier spot
            previous = rng.choice(made)
            lat, lon = previous.lat, previous.lon
        problem = challenges.report_problem(
            db.session, actor=reporter, title=f"Problem number {n}", description="Generated.",
            category=rng.choice(CATEGORIES), lat=lat, lon=lon, address=None, categories=CATEGORIES,
            now=start - timedelta(minutes=rng.randrange(3) * 10))
        roll = rng.random()
        if roll < 0.15:
            problem.status = rng.choice(RESOLVED_STATES)
        elif roll < 0.2 and made:
            problem.merged_into_id = rng.choice(made).id
        made.append(problem)
    db.session.commit()
    rows = db.session.scalars(select(Problem)).all()
    assert len(rows) == 160

    for _ in range(60):
        lat, lon = destination(*centre, rng.uniform(0, 360), 900 * math.sqrt(rng.random()))
        search = dict(lat=lat, lon=lon, radius_m=rng.choice([5, 50, 120, 400, 1500]),
                      category=rng.choice([None, *CATEGORIES]), limit=rng.choice([1, 3, 20, 200]))
        expected = brute_force(rows, **search)
        found = find_nearby(db.session, **search)
        assert [(n.problem.id, n.distance_m) for n in found] == expected, search
