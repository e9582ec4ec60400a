"""Bad input, everywhere: too large, malformed, the wrong content type, odd Unicode. Each
is a 4xx with a message (or stored safely), never a 500."""
from __future__ import annotations

import json

import pytest

from api.openapi import JSON, PREFIX, operations
from challenges.models import Problem
from extensions import db
from open311 import services as open311_services
from tests.api import auth, error_of
from tests.factories import make_claim, make_organiser, make_problem, make_quest, make_user

ODD_TEXT = {
    "NUL byte": "Pot\x00hole",
    "lone surrogate": "Pot\ud800hole",
}
SAFE_ODD_TEXT = {
    "right-to-left override": "Pothole \u202egnp.exe",
    "zero-width and combining marks": "Po\u200bt\u0301ho\ufeffle",
    "emoji and astral plane": "Pothole \U0001f573\U0001d54f",
}


@pytest.fixture
def seeded(ctx):
    organiser = make_organiser()
    member = make_user()
    quest = make_quest(organiser)
    return {"headers": auth(organiser), "problem_id": make_problem(member).id, "quest_id": quest.id,
            "claim_id": make_claim(member, quest, submit=True).id, "update_id": 1, "team_id": 1, "member_id": member.id,
            "event_id": 1, "campaign_id": 1, "subscription_id": 1, "webhook_id": 1, "class_id": 1,
            "user_id": member.id, "kind": "problem", "object_id": 1,
            "action": "hide"}  # bodies are read before these are looked up


def body_routes(seeded) -> list[tuple[str, str]]:
    """Every documented API route that reads a JSON body, with real ids in its path. The photo
    routes take multipart/form-data instead (their bad bodies: tests/api/test_photos.py)."""
    return [(op.method, PREFIX + op.path.format(**seeded)) for op in operations(["pothole"])
            if op.body is not None and op.body_media_type == JSON]


# --- the JSON API --------------------------------------------------------------------------

def test_every_json_route_refuses_another_content_type_with_415(client, seeded):
    for method, url in body_routes(seeded):
        for content_type, data in (("text/plain", "title=Pothole"),
                                   ("application/x-www-form-urlencoded", "title=Pothole"),
                                   ("multipart/form-data; boundary=x", "--x\r\n\r\n--x--")):
            response = client.open(url, method=method.upper(), data=data, content_type=content_type,
                                   headers=seeded["headers"])
            assert response.status_code == 415, (method, url, content_type, response.status_code)
            assert error_of(response)["code"] == "unsupported_media_type"


def test_every_json_route_answers_malformed_json_with_400(client, seeded):
    for method, url in body_routes(seeded):
        for data in ('{"title": ', "{'title': 'single quotes'}", "NaN", '{"a": 1} trailing', "\xff\xfe{}"):
            response = client.open(url, method=method.upper(), data=data, content_type="application/json",
                                   headers=seeded["headers"])
            assert response.status_code == 400, (method, url, data, response.status_code)
            assert error_of(response)["code"] == "malformed_body"


def test_required_body_missing_is_400_not_415(client, seeded):
    response = client.post("/api/v1/problems", headers=seeded["headers"])
    assert response.status_code == 400
    assert "JSON object" in error_of(response)["message"]


def test_every_json_route_answers_a_body_over_the_limit_with_413(client, seeded, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    for method, url in body_routes(seeded):
        response = client.open(url, method=method.upper(), json={"title": "x" * 3000}, headers=seeded["headers"])
        assert response.status_code == 413, (method, url, response.status_code)
        error = error_of(response)
        assert error["code"] == "request_entity_too_large" and "2000 bytes" in error["message"]


@pytest.mark.parametrize("name", sorted(ODD_TEXT))
def test_text_the_database_cannot_hold_is_a_422_naming_the_field(client, seeded, name):
    encoded = json.dumps({"title": ODD_TEXT[name], "description": "ok", "category": "pothole",
                          "lat": 51.45, "lon": -2.58})  # json.dumps writes a lone surrogate as \\ud800
    response = client.post("/api/v1/problems", data=encoded, content_type="application/json",
                           headers=seeded["headers"])
    assert response.status_code == 422
    assert "title" in error_of(response)["fields"]


@pytest.mark.parametrize("name", sorted(SAFE_ODD_TEXT))
def test_unusual_but_valid_unicode_is_stored_exactly_and_sent_back_as_json(client, seeded, name):
    title = SAFE_ODD_TEXT[name]
    response = client.post("/api/v1/problems", json={"title": title, "description": title, "category": "pothole",
                                                     "lat": 51.45, "lon": -2.58}, headers=seeded["headers"])
    assert response.status_code == 201
    problem = db.session.get(Problem, response.get_json()["id"])
    assert problem.title == title.strip()
    assert client.get(f"/api/v1/problems/{problem.id}").get_json()["title"] == title.strip()


def test_very_long_strings_are_422_not_500(client, seeded):
    long = "é" * 100_000
    response = client.post("/api/v1/problems", json={"title": long, "description": long, "category": "pothole",
                                                     "lat": 51.45, "lon": -2.58, "address": long},
                           headers=seeded["headers"])
    assert response.status_code == 422
    assert {"title", "description", "address"} <= set(error_of(response)["fields"])


def test_odd_query_strings_are_4xx_not_500(client):
    for query in ("category=%00", "category=%ED%A0%80", "updated_since=%ff%fe", "bbox=%00,1,2,3",
                  "page=%D9%A3", "page_size=" + "9" * 5000, "status=open%E2%80%AE", "bbox=" + "1," * 10_000):
        response = client.get(f"/api/v1/problems?{query}")
        assert 400 <= response.status_code < 500, (query, response.status_code)
        error_of(response)


# --- Open311 -------------------------------------------------------------------------------

def test_open311_answers_a_request_over_the_limit_with_its_error_list(client, app, ctx, monkeypatch):
    key = open311_services.create_key(db.session, name="Council")[1]
    db.session.commit()
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    data = {"api_key": key, "service_code": "pothole", "lat": "51.45", "long": "-2.58", "description": "x" * 3000}
    response = client.post("/open311/v2/requests.json", data=data, csrf=False)
    assert response.status_code == 413
    [error] = response.get_json()
    assert error["code"] == 413 and "2000 bytes" in error["description"]
    response = client.post("/open311/v2/requests.xml", data=data, csrf=False)
    assert response.status_code == 413 and response.mimetype == "text/xml"
    assert b"<code>413</code>" in response.data


def test_open311_odd_unicode_is_a_400_not_a_500(client, ctx):
    key = open311_services.create_key(db.session, name="Council")[1]
    db.session.commit()
    for description in ("Pot\x00hole", "x" * 5000):
        response = client.post("/open311/v2/requests.json", csrf=False, data={
            "api_key": key, "service_code": "pothole", "lat": "51.45", "long": "-2.58", "description": description})
        assert response.status_code == 400, (description[:10], response.status_code)


# --- web pages -----------------------------------------------------------------------------

def test_a_web_form_over_the_limit_gets_a_friendly_page_back_to_the_form(client, login, app, monkeypatch):
    login(make_user())
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    response = client.post("/problems/new", data={"title": "Pothole", "description": "x" * 3000},
                           headers={"Referer": "http://localhost/problems/new"})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "your browser still has what you typed" in page
    assert 'href="http://localhost/problems/new"' in page


def test_a_too_large_page_never_links_to_another_site(client, login, app, monkeypatch):
    login(make_user())
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    response = client.post("/problems/new", data={"description": "x" * 3000},
                           headers={"Referer": "https://evil.example/phish"})
    assert response.status_code == 413
    assert "evil.example" not in response.get_data(as_text=True)


@pytest.mark.parametrize("text", ["Pot\x00hole", "Pothole \u202egnp.exe", "é" * 20_000])
def test_web_report_form_with_odd_text_is_never_a_500(client, login, text):
    login(make_user())
    response = client.post("/problems/new", data={"title": text, "description": text, "category": "pothole",
                                                  "lat": "51.45", "lon": "-2.58", "address": text,
                                                  "checked_nearby": "1"})
    assert response.status_code < 500
    if response.status_code == 200:  # shown again with the messages beside the fields
        assert "error" in response.get_data(as_text=True).lower()


def test_max_content_length_is_configurable(monkeypatch, tmp_path):
    from config import ConfigError, from_environment

    monkeypatch.setenv("FIXQUEST_MAX_CONTENT_LENGTH", "1048576")
    assert from_environment(str(tmp_path))["MAX_CONTENT_LENGTH"] == 1048576
    monkeypatch.setenv("FIXQUEST_MAX_CONTENT_LENGTH", "lots")
    with pytest.raises(ConfigError, match="FIXQUEST_MAX_CONTENT_LENGTH"):
        from_environment(str(tmp_path))
    monkeypatch.delenv("FIXQUEST_MAX_CONTENT_LENGTH")
    monkeypatch.setenv("FIXQUEST_PHOTO_MAX_BYTES", "1000000")
    assert from_environment(str(tmp_path))["MAX_CONTENT_LENGTH"] == 3 * 1000000 + 1024 * 1024


# --- ids beyond what the database holds ----------------------------------------------------

def test_ids_beyond_an_integer_column_are_404_or_422_never_500(client, seeded, ctx):
    """Every id column is an INTEGER; PostgreSQL's holds at most 2**31 - 1 and refused a
    larger one with an error (a 500) until URLs and JSON ids stopped there."""
    too_big = 2**31
    for url in (f"/api/v1/problems/{too_big}", f"/api/v1/quests/{too_big}", f"/api/v1/teams/{too_big}",
                f"/api/v1/leaderboards/participants/around/{too_big}"):
        response = client.get(url)
        assert response.status_code == 404, url
        error_of(response)
    assert client.get(f"/problems/{too_big}").status_code == 404
    assert client.get(f"/open311/v2/requests/{too_big}.json").status_code == 404
    response = client.post(f"/api/v1/quests/{seeded['quest_id']}/claims", json={"team_id": too_big},
                           headers=seeded["headers"])
    assert response.status_code == 422 and "team_id" in error_of(response)["fields"]
    response = client.get(f"/api/v1/leaderboards/participants?team_id={too_big}")
    assert response.status_code == 422 and "team_id" in error_of(response)["fields"]
