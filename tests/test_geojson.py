"""GET /api/v1/problems.geojson: RFC 7946 points in [lon, lat] order, filters, bounds,
merged problems left out, and the API's JSON error shape for bad parameters."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from challenges.geo import BadArea
from challenges.services import change_status
from extensions import db
from maps.area import BBox, Circle, parse_area, parse_bbox, parse_circle
from tests.factories import make_organiser, make_problem, make_user
from tests.querycount import counting
from timeutil import utcnow

URL = "/api/v1/problems.geojson"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def geojson(client, query: str = "") -> dict:
    response = client.get(URL + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.data
    assert response.content_type == "application/geo+json"
    return json.loads(response.data)


def ids(collection: dict) -> list[int]:
    return [feature["properties"]["id"] for feature in collection["features"]]


def newest_first(reporter, n: int, **fields):
    """n problems, the last made the newest; returned newest first."""
    return [make_problem(reporter, now=utcnow() - timedelta(minutes=60 - i), **fields) for i in range(n)][::-1]


def test_a_feature_collection_of_points_in_lon_lat_order(client):
    problem = make_problem(make_user(), title="Bench", category="other", lat=51.4501, lon=-2.5977)
    collection = geojson(client)
    assert collection["type"] == "FeatureCollection"
    assert collection["truncated"] is False
    [feature] = collection["features"]
    assert feature["type"] == "Feature"
    assert feature["id"] == problem.id
    assert feature["geometry"] == {"type": "Point", "coordinates": [-2.5977, 51.4501]}
    props = feature["properties"]
    assert props == {
        "id": problem.id, "title": "Bench", "category": "other", "status": "open",
        "url": f"http://localhost/problems/{problem.id}",
        "confirmations_count": 0, "subscribers_count": problem.subscribers_count,
        "created_at": props["created_at"],
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", props["created_at"])


def test_newest_first_and_bounded_by_limit(client):
    made = newest_first(make_user(), 5)
    collection = geojson(client)
    assert ids(collection) == [p.id for p in made]
    limited = geojson(client, "limit=2")
    assert ids(limited) == [p.id for p in made[:2]]
    assert limited["truncated"] is True
    assert geojson(client, "limit=5")["truncated"] is False


@pytest.mark.parametrize("limit", ["0", "5001", "-1", "x", "1.5"])
def test_limit_out_of_range_is_422_naming_the_field(client, limit):
    response = client.get(f"{URL}?limit={limit}")
    assert response.status_code == 422
    assert "limit" in response.get_json()["error"]["fields"]


def test_filters_by_category_and_by_one_or_several_statuses(client):
    reporter, organiser = make_user(), make_organiser()
    pothole = make_problem(reporter, category="pothole")
    litter = make_problem(reporter, category="litter")
    fixed = make_problem(reporter, category="litter")
    change_status(db.session, actor=organiser, problem=fixed, status="fixed")
    in_progress = make_problem(reporter, category="graffiti")
    change_status(db.session, actor=organiser, problem=in_progress, status="in_progress")
    db.session.commit()

    assert set(ids(geojson(client, "category=litter"))) == {litter.id, fixed.id}
    assert set(ids(geojson(client, "category=litter,graffiti"))) == {litter.id, fixed.id, in_progress.id}
    assert set(ids(geojson(client, "status=fixed"))) == {fixed.id}
    assert set(ids(geojson(client, "status=open,in_progress"))) == {pothole.id, litter.id, in_progress.id}
    assert set(ids(geojson(client, "category=litter&status=open"))) == {litter.id}


@pytest.mark.parametrize("query, field", [("category=potholes", "category"), ("status=done", "status"),
                                          ("status=open,done", "status")])
def test_unknown_category_or_status_is_422_naming_the_field(client, query, field):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == [field]


def test_bbox_keeps_problems_inside_it(client):
    reporter = make_user()
    inside = make_problem(reporter, lat=51.4545, lon=-2.5879)
    make_problem(reporter, lat=51.3811, lon=-2.3590)  # Bath
    edge = make_problem(reporter, lat=51.50, lon=-2.52)
    assert set(ids(geojson(client, "bbox=-2.65,51.42,-2.52,51.50"))) == {inside.id, edge.id}


def test_bbox_across_the_antimeridian(client):
    reporter = make_user()
    fiji = make_problem(reporter, lat=-17.7, lon=178.0)
    samoa = make_problem(reporter, lat=-13.8, lon=-171.8)
    make_problem(reporter, lat=-15.0, lon=0.0)
    assert set(ids(geojson(client, "bbox=170,-20,-170,-10"))) == {fiji.id, samoa.id}


@pytest.mark.parametrize("bbox", ["1,2,3", "1,2,3,4,5", "a,b,c,d", "nan,0,1,1", "inf,0,1,1", "1_0,0,20,1",
                                  "-181,0,1,1", "0,-91,1,1", "0,10,1,5", "0x1,0,1,1", ",,,"])
def test_malformed_bbox_is_400_in_the_json_error_shape(client, bbox):
    response = client.get(f"{URL}?bbox={bbox}")
    assert response.status_code == 400
    assert response.content_type == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "bad_bbox"
    assert error["message"] and error["fields"] == {"bbox": [error["message"]]}


def test_merged_problems_are_left_out(client):
    reporter = make_user()
    survivor = make_problem(reporter)
    duplicate = make_problem(reporter)
    duplicate.merged_into_id = survivor.id
    db.session.commit()
    assert ids(geojson(client)) == [survivor.id]


def test_counts_come_from_the_problem(client):
    problem = make_problem(make_user())
    problem.confirmations_count, problem.subscribers_count = 4, 7
    db.session.commit()
    props = geojson(client)["features"][0]["properties"]
    assert (props["confirmations_count"], props["subscribers_count"]) == (4, 7)


def test_no_email_address_in_the_geojson(client):
    reporter = make_user(email="hidden.reporter@example.org")
    organiser = make_organiser(email="hidden.officer@council.example")
    problem = make_problem(reporter)
    change_status(db.session, actor=organiser, problem=problem, status="confirmed", note="Seen it.")
    db.session.commit()
    body = client.get(URL).get_data(as_text=True)
    assert "hidden" not in body and not EMAIL.search(body)


def test_geojson_route_does_not_clash_with_a_problem_by_id(client):
    problem = make_problem(make_user(), title="One")
    by_id = client.get(f"/api/v1/problems/{problem.id}")
    assert by_id.status_code == 200 and by_id.content_type == "application/json"
    assert by_id.get_json()["title"] == "One"
    assert geojson(client)["type"] == "FeatureCollection"
    listed = client.get("/api/v1/problems")
    assert listed.status_code == 200 and "items" in listed.get_json()
    for path in [f"/api/v1/problems/{problem.id}.geojson", "/api/v1/problems.json", "/api/v1/problems.geojson/1"]:
        response = client.get(path)
        assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found", path


def test_query_count_does_not_grow_with_features(client):
    reporter = make_user()
    newest_first(reporter, 2)
    with counting(db.engine) as small:
        geojson(client)
    newest_first(reporter, 10)
    with counting(db.engine) as large:
        assert len(geojson(client)["features"]) == 12
    assert len(small) == len(large) == 1


# --- reading areas (no app) ------------------------------------------------------------------

def test_parse_bbox_reads_minlon_minlat_maxlon_maxlat():
    box = parse_bbox(" -2.65, 51.42,-2.52 ,51.5")
    assert box == BBox(-2.65, 51.42, -2.52, 51.5)
    assert box.contains(51.45, -2.6) and not box.contains(51.45, -2.4) and not box.contains(51.6, -2.6)
    assert box.as_param() == "-2.65,51.42,-2.52,51.5"
    wrapped = parse_bbox("170,-20,-170,-10")
    assert wrapped.crosses_antimeridian and wrapped.contains(-15, 179) and wrapped.contains(-15, -175)
    assert not wrapped.contains(-15, 0)


def test_parse_circle_names_the_field_at_fault():
    assert parse_circle("51.4545", "-2.5879", "500") == Circle(51.4545, -2.5879, 500.0)
    for args, field in [(("x", "0", "10"), "lat"), (("0", "", "10"), "lon"), (("0", "0", None), "radius_m"),
                        (("0", "181", "10"), "lon"), (("0", "0", "5001"), "radius_m")]:
        with pytest.raises(BadArea) as caught:
            parse_circle(*args)
        assert caught.value.field == field


def test_parse_area_wants_exactly_one_kind_of_area():
    assert isinstance(parse_area({"bbox": "0,0,1,1"}), BBox)
    assert isinstance(parse_area({"lat": "0", "lon": "0", "radius_m": "10"}), Circle)
    for args in ({}, {"bbox": "0,0,1,1", "lat": "0"}):
        with pytest.raises(BadArea):
            parse_area(args)
