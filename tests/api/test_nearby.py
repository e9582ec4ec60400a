"""GET /api/v1/problems/nearby, and the nearby candidates POST /api/v1/problems returns."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import event

from challenges.services import change_status
from extensions import db
from tests.api import auth, error_of
from tests.factories import make_organiser, make_problem, make_user
from tests.test_geo import destination

HERE = (51.4545, -2.5879)
REPORT = {"title": "Pothole on Broad Street", "description": "Deep enough to break an ankle.",
          "category": "pothole", "lat": HERE[0], "lon": HERE[1], "address": "Broad Street"}
PROBLEM_KEYS = {"id", "title", "description", "category", "status", "lat", "lon", "address", "created_at",
                "updated_at", "confirmations_count", "subscribers_count"}


def problem_at(reporter, bearing: float, distance_m: float, **kw):
    lat, lon = destination(*HERE, bearing, distance_m)
    return make_problem(reporter, lat=lat, lon=lon, **kw)


def nearby(client, **params):
    return client.get("/api/v1/problems/nearby", query_string={"lat": HERE[0], "lon": HERE[1], **params})


def test_nearby_lists_open_problems_nearest_first_with_their_distance(client):
    reporter = make_user()
    far = problem_at(reporter, 90, 40)
    near = problem_at(reporter, 0, 12.34)
    problem_at(reporter, 180, 55)  # outside the default 50 m
    response = nearby(client)
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [item["id"] for item in items] == [near.id, far.id]
    assert set(items[0]) == PROBLEM_KEYS | {"distance_m"}
    assert [item["distance_m"] for item in items] == [12.3, 40.0]
    assert reporter.email not in response.get_data(as_text=True)


def test_radius_category_and_limit_narrow_the_search(client):
    reporter, organiser = make_user(), make_organiser()
    litter = problem_at(reporter, 0, 10, category="litter")
    pothole = problem_at(reporter, 90, 20, category="pothole")
    further = problem_at(reporter, 180, 80, category="litter")
    fixed = problem_at(reporter, 270, 5, category="litter")
    change_status(db.session, actor=organiser, problem=fixed, status="fixed")
    db.session.commit()

    def found(**params):
        return [item["id"] for item in nearby(client, **params).get_json()["items"]]

    assert found() == [litter.id, pothole.id]
    assert found(radius_m=100) == [litter.id, pothole.id, further.id]
    assert found(radius_m="100", category="litter") == [litter.id, further.id]
    assert found(radius_m=100, limit=1) == [litter.id]


def test_the_default_radius_comes_from_the_config(app, client):
    reporter = make_user()
    at_70 = problem_at(reporter, 0, 70)
    assert nearby(client).get_json()["items"] == []
    old = app.config.get("NEARBY_RADIUS_M")
    app.config["NEARBY_RADIUS_M"] = 100
    try:
        assert [item["id"] for item in nearby(client).get_json()["items"]] == [at_70.id]
    finally:
        if old is None:
            del app.config["NEARBY_RADIUS_M"]
        else:
            app.config["NEARBY_RADIUS_M"] = old


def test_finds_across_the_antimeridian(client):
    problem = make_problem(make_user(), lat=-16.8, lon=179.9999)
    response = client.get("/api/v1/problems/nearby?lat=-16.8&lon=-179.9999")
    assert [item["id"] for item in response.get_json()["items"]] == [problem.id]


def test_nearby_is_not_taken_for_a_problem_id(client):
    problem = make_problem(make_user())
    assert client.get(f"/api/v1/problems/{problem.id}").get_json()["id"] == problem.id
    response = client.get("/api/v1/problems/nearby")
    assert response.status_code == 400  # not 404: it reached the nearby route
    assert error_of(response)["code"] == "invalid_parameter"


@pytest.mark.parametrize("query,fields", [
    ("", {"lat", "lon"}),
    ("lat=51.45", {"lon"}),
    ("lat=north&lon=-2.59", {"lat"}),
    ("lat=51.45&lon=", {"lon"}),
    ("lat=nan&lon=inf", {"lat", "lon"}),
    ("lat=1e999&lon=-2.59", {"lat"}),
    ("lat=51.45%0A&lon=-2.59", {"lat"}),
    ("lat=91&lon=-2.59", {"lat"}),
    ("lat=51.45&lon=-180.5", {"lon"}),
    ("lat=51.45&lon=-2.59&radius_m=0", {"radius_m"}),
    ("lat=51.45&lon=-2.59&radius_m=10000", {"radius_m"}),
    ("lat=51.45&lon=-2.59&radius_m=fifty", {"radius_m"}),
    ("lat=51.45&lon=-2.59&category=dragons", {"category"}),
    ("lat=51.45&lon=-2.59&limit=0", {"limit"}),
    ("lat=51.45&lon=-2.59&limit=" + "9" * 5000, {"limit"}),
    ("lat=" + "1" * 5000 + "&lon=-2.59", {"lat"}),
])
def test_bad_or_missing_parameters_are_400_naming_each(client, query, fields):
    response = client.get(f"/api/v1/problems/nearby?{query}")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_parameter"
    assert set(error["fields"]) == fields
    assert all(error["fields"][name] and isinstance(error["fields"][name][0], str) for name in fields)


def count_queries(fn):
    statements: list[str] = []
    me = threading.get_ident()

    def count(conn, cursor, statement, *args):
        if threading.get_ident() == me:  # not background jobs'
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def test_nearby_takes_the_same_queries_however_many_it_finds(client):
    reporter = make_user()
    problem_at(reporter, 0, 10)
    one = count_queries(lambda: nearby(client))
    for n in range(5):
        problem_at(reporter, 60 * n, 15 + n)
    assert count_queries(lambda: nearby(client)) == one == 2


# --- POST /problems: the new problem and its nearby candidates ------------------------------

def test_reporting_returns_the_problem_and_open_problems_of_its_category_nearby(client):
    reporter, organiser = make_user(), make_organiser()
    same = problem_at(reporter, 0, 30, category="pothole")
    nearer = problem_at(reporter, 90, 8, category="pothole")
    problem_at(reporter, 180, 10, category="litter")
    problem_at(reporter, 270, 300, category="pothole")
    fixed = problem_at(reporter, 45, 5, category="pothole")
    change_status(db.session, actor=organiser, problem=fixed, status="fixed")
    db.session.commit()

    response = client.post("/api/v1/problems", json=REPORT, headers=auth(make_user()))
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == PROBLEM_KEYS | {"nearby", "awaiting_review"} and body["awaiting_review"] is False
    assert body["title"] == REPORT["title"] and body["status"] == "open"
    assert [item["id"] for item in body["nearby"]] == [nearer.id, same.id]
    assert [item["distance_m"] for item in body["nearby"]] == [8.0, 30.0]
    assert body["id"] not in {item["id"] for item in body["nearby"]}
    assert reporter.email not in response.get_data(as_text=True)
    shown = client.get(response.headers["Location"]).get_json()
    assert shown == {key: value for key, value in body.items() if key not in ("nearby", "awaiting_review")}


def test_reporting_where_nothing_is_nearby_returns_an_empty_list(client):
    response = client.post("/api/v1/problems", json=REPORT, headers=auth(make_user()))
    assert response.status_code == 201
    assert response.get_json()["nearby"] == []


def test_reporting_takes_the_same_queries_however_many_are_nearby(client):
    reporter = make_user()
    headers = auth(make_user())
    problem_at(reporter, 0, 10)
    one = count_queries(lambda: client.post("/api/v1/problems", json=REPORT, headers=headers))
    for n in range(5):
        problem_at(reporter, 60 * n, 15 + n)
    assert count_queries(lambda: client.post("/api/v1/problems", json=REPORT, headers=headers)) == one
