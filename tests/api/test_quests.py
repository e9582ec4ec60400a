"""Making and listing quests through the API."""
from __future__ import annotations

from datetime import timedelta

from extensions import db
from tests.api import auth, error_of
from tests.factories import make_organiser, make_problem, make_quest, make_user
from timeutil import isoformat, utcnow


def quest_body(**overrides) -> dict:
    body = {"title": "Clear the bus stop litter", "brief": "People wait here every morning.",
            "points": 50, "difficulty": "easy", "mode": "solo",
            "evidence_wanted": "A note on what you cleared.",
            "ends_at": isoformat(utcnow() + timedelta(days=3))}
    body.update(overrides)
    return body


def test_organiser_makes_a_quest_for_a_problem(client):
    organiser = make_organiser()
    problem = make_problem(organiser)
    response = client.post("/api/v1/quests", json=quest_body(problem_id=problem.id), headers=auth(organiser))
    assert response.status_code == 201
    quest = response.get_json()
    assert set(quest) == {"id", "title", "brief", "points", "difficulty", "mode", "evidence_wanted",
                          "status", "review_mode", "peer_reviews_needed", "dynamic_min_points", "dynamic_decay",
                          "starts_at", "ends_at", "problem_id"}
    assert (quest["points"], quest["problem_id"], quest["starts_at"]) == (50, problem.id, None)
    assert client.get(response.headers["Location"]).get_json() == quest


def test_participant_making_a_quest_is_403(client):
    response = client.post("/api/v1/quests", json=quest_body(), headers=auth(make_user()))
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_datetimes_with_a_zone_are_converted_to_utc(client):
    ends = (utcnow() + timedelta(days=2)).replace(hour=12, minute=0, second=0, microsecond=0)
    local = ends.strftime("%Y-%m-%dT14:00:00+02:00")
    response = client.post("/api/v1/quests", json=quest_body(ends_at=local), headers=auth(make_organiser()))
    assert response.status_code == 201
    assert response.get_json()["ends_at"] == isoformat(ends)


def test_naive_datetimes_are_taken_as_utc(client):
    starts = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    body = quest_body(starts_at=starts.strftime("%Y-%m-%dT%H:%M:%S"))
    response = client.post("/api/v1/quests", json=body, headers=auth(make_organiser()))
    assert response.status_code == 201
    assert response.get_json()["starts_at"] == isoformat(starts)


def test_malformed_datetimes_are_422_naming_the_field(client):
    headers = auth(make_organiser())
    for bad in ("next tuesday", "2026-13-45T09:00:00Z", "2026-11-27", 1764235800):
        response = client.post("/api/v1/quests", json=quest_body(starts_at=bad), headers=headers)
        assert response.status_code == 422, bad
        assert list(error_of(response)["fields"]) == ["starts_at"]


def test_wrong_json_types_are_422_naming_each_field(client):
    body = quest_body(points="lots", title=5, mode=["solo"], problem_id="x")
    response = client.post("/api/v1/quests", json=body, headers=auth(make_organiser()))
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"points", "title", "mode", "problem_id"}


def test_domain_rules_are_422_naming_the_field(client):
    headers = auth(make_organiser())
    past = isoformat(utcnow() - timedelta(days=1))
    for field, value in (("points", 5000), ("ends_at", past), ("difficulty", "heroic"), ("problem_id", 999)):
        response = client.post("/api/v1/quests", json=quest_body(**{field: value}), headers=headers)
        assert response.status_code == 422, field
        assert list(error_of(response)["fields"]) == [field]


def test_missing_fields_are_422_naming_each(client):
    response = client.post("/api/v1/quests", json={}, headers=auth(make_organiser()))
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) >= {"title", "brief", "points", "difficulty", "mode",
                                                 "evidence_wanted"}


def test_open_quests_are_listed_soonest_closing_first(client):
    organiser = make_organiser()
    later = make_quest(organiser, title="Later quest", ends_at=utcnow() + timedelta(days=9))
    sooner = make_quest(organiser, title="Sooner quest", ends_at=utcnow() + timedelta(days=1))
    endless = make_quest(organiser, title="Endless quest", ends_at=None)
    closed = make_quest(organiser, title="Closed quest")
    closed.ends_at = utcnow() - timedelta(hours=1)
    db.session.commit()

    page = client.get("/api/v1/quests").get_json()
    assert [q["id"] for q in page["items"]] == [sooner.id, later.id, endless.id]
    assert page["total"] == 3


def test_unknown_quest_is_404(client):
    response = client.get("/api/v1/quests/31337")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
