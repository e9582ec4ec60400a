"""Reporting and reading problems through the API."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import event

from challenges.services import change_status
from extensions import db
from tests.api import auth, error_of
from tests.factories import make_organiser, make_problem, make_quest, make_user
from timeutil import utcnow

REPORT = {"title": "Pothole on Broad Street", "description": "Deep enough to break an ankle.",
          "category": "pothole", "lat": 51.4545, "lon": -2.5879, "address": "Broad Street"}
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def test_reporting_a_problem_returns_it_with_its_location(client):
    response = client.post("/api/v1/problems", json=REPORT, headers=auth(make_user()))
    assert response.status_code == 201
    problem = response.get_json()
    assert set(problem) == {"id", "title", "description", "category", "status", "lat", "lon",
                            "address", "created_at", "updated_at", "confirmations_count",
                            "subscribers_count", "nearby", "awaiting_review"}
    assert (problem["confirmations_count"], problem["subscribers_count"]) == (0, 1)  # the reporter follows
    assert problem.pop("nearby") == [] and problem.pop("awaiting_review") is False
    assert problem["status"] == "open" and problem["lat"] == 51.4545
    assert ISO_UTC.match(problem["created_at"])
    assert response.headers["Location"].endswith(f"/api/v1/problems/{problem['id']}")
    assert client.get(response.headers["Location"]).get_json() == problem


def test_a_report_the_word_list_holds_says_it_awaits_a_moderator(app, client):
    app.config["MODERATION_WORDS"] = ("blorp",)
    try:
        response = client.post("/api/v1/problems", headers=auth(make_user()),
                               json={**REPORT, "title": "Blorp on the bench"})
    finally:
        app.config["MODERATION_WORDS"] = ()
    assert response.status_code == 201 and response.get_json()["awaiting_review"] is True
    assert client.get(f"/api/v1/problems/{response.get_json()['id']}").status_code == 404  # not public yet


def test_a_suspended_accounts_token_is_refused_even_for_reading(client):
    from moderation import suspension

    person = make_user()
    headers = auth(person)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    suspension.suspend(db.session, actor=make_user(role="admin"), user=person, reason="Spamming reports")
    db.session.commit()
    response = client.get("/api/v1/me", headers=headers)  # the contract client checks 403 is documented
    assert response.status_code == 403 and error_of(response)["code"] == "account_suspended"


def test_reading_a_problem_needs_no_token_and_shows_no_email(client):
    reporter = make_user()
    problem = make_problem(reporter)
    response = client.get(f"/api/v1/problems/{problem.id}")
    assert response.status_code == 200
    assert response.get_json()["title"] == problem.title
    assert reporter.email not in response.get_data(as_text=True)


def test_unknown_problem_is_404(client):
    response = client.get("/api/v1/problems/4242")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_out_of_range_latitude_is_422_naming_lat(client):
    response = client.post("/api/v1/problems", json={**REPORT, "lat": 95}, headers=auth(make_user()))
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["lat"]


def test_wrong_json_types_are_422_naming_each_field(client):
    body = {**REPORT, "lat": "north", "lon": True, "title": 5, "description": ["a", "list"],
            "address": {"street": "Broad"}}
    response = client.post("/api/v1/problems", json=body, headers=auth(make_user()))
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"lat", "lon", "title", "description", "address"}


def test_text_with_a_nul_character_is_422_not_a_database_error(client):
    response = client.post("/api/v1/problems", json={**REPORT, "title": "Pot\u0000hole"},
                           headers=auth(make_user()))
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["title"]


def test_missing_fields_are_422_naming_each(client):
    response = client.post("/api/v1/problems", json={"address": "Somewhere"}, headers=auth(make_user()))
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) >= {"title", "description", "category", "lat", "lon"}


def test_unknown_category_is_422(client):
    response = client.post("/api/v1/problems", json={**REPORT, "category": "dragons"}, headers=auth(make_user()))
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["category"]


def test_problem_list_is_newest_first_and_links_to_the_next_page(client):
    reporter = make_user()
    ids = [make_problem(reporter, title=f"Problem number {n}", now=utcnow() + timedelta(minutes=n)).id
           for n in range(3)]
    first = client.get("/api/v1/problems?page_size=2").get_json()
    assert [p["id"] for p in first["items"]] == [ids[2], ids[1]]
    assert (first["page"], first["page_size"], first["total"], first["prev"]) == (1, 2, 3, None)
    second = client.get(first["next"]).get_json()
    assert [p["id"] for p in second["items"]] == [ids[0]]
    assert second["next"] is None and second["prev"] is not None


def test_problem_list_filters_by_category_and_status_and_keeps_filters_in_next(client):
    reporter, organiser = make_user(), make_organiser()
    make_problem(reporter, category="litter", title="Litter one")
    make_problem(reporter, category="litter", title="Litter two")
    fixed = make_problem(reporter, category="litter", title="Litter fixed")
    make_problem(reporter, category="pothole")
    change_status(db.session, actor=organiser, problem=fixed, status="fixed")
    db.session.commit()

    page = client.get("/api/v1/problems?category=litter&status=open&page_size=1").get_json()
    assert page["total"] == 2 and page["items"][0]["category"] == "litter"
    assert "category=litter" in page["next"] and "status=open" in page["next"]
    fixed_only = client.get("/api/v1/problems?status=fixed").get_json()
    assert [p["id"] for p in fixed_only["items"]] == [fixed.id]


def test_problem_list_filters_by_bbox_and_keeps_it_in_next(client):
    reporter = make_user()
    make_problem(reporter, title="Bristol one", lat=51.4545, lon=-2.5879)
    make_problem(reporter, title="Bristol two", lat=51.4600, lon=-2.5900)
    make_problem(reporter, title="Bath", lat=51.3811, lon=-2.3590)
    page = client.get("/api/v1/problems?bbox=-2.7,51.4,-2.5,51.5&page_size=1").get_json()
    assert page["total"] == 2 and page["items"][0]["title"] == "Bristol two"
    assert "bbox=-2.7" in page["next"]
    assert [p["title"] for p in client.get(page["next"]).get_json()["items"]] == ["Bristol one"]


def test_problem_list_filters_by_updated_since_for_clients_that_poll(client):
    reporter, organiser = make_user(), make_organiser()
    quiet = make_problem(reporter, title="Nothing new")
    changed = make_problem(reporter, title="Now fixed")
    db.session.execute(db.update(type(quiet)).values(updated_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    since = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.get(f"/api/v1/problems?updated_since={since}").get_json()["items"] == []
    change_status(db.session, actor=organiser, problem=changed, status="fixed")
    db.session.commit()
    items = client.get(f"/api/v1/problems?updated_since={since}").get_json()["items"]
    assert [p["title"] for p in items] == ["Now fixed"]


def test_bad_list_parameters_are_422_naming_each(client):
    response = client.get("/api/v1/problems?page=0&page_size=101&category=dragons&status=lost"
                          "&updated_since=yesterday")
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"page", "page_size", "category", "status", "updated_since"}


def test_a_malformed_bbox_is_400_naming_it(client):
    response = client.get("/api/v1/problems?bbox=1,2,3")
    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["bbox"]


def test_a_page_past_the_end_is_empty_not_an_error(client):
    make_problem(make_user())
    page = client.get("/api/v1/problems?page=5").get_json()
    assert page["items"] == [] and page["total"] == 1 and page["next"] is None


def test_problem_and_quest_lists_take_the_same_queries_however_long(client):
    organiser = make_organiser()
    for n in range(5):
        make_quest(organiser, problem_id=make_problem(organiser, title=f"Problem number {n}").id)
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert len(client.get("/api/v1/problems").get_json()["items"]) == 5
        assert len(client.get("/api/v1/quests").get_json()["items"]) == 5
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 4  # a count and a page, for each list
