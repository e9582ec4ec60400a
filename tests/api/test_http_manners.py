"""The open interfaces' HTTP manners: CORS for any site's software, ETags and 304s for
readers that poll, and caches that never mix one person's view with another's."""
from __future__ import annotations

from tests.api import auth
from tests.factories import make_organiser, make_problem, make_user


def test_a_public_list_sends_an_etag_and_answers_304_when_unchanged(client):
    make_problem(make_user(), title="Pothole on Mill Lane")
    first = client.get("/api/v1/problems")
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag
    assert "public" in first.headers["Cache-Control"] and "no-cache" in first.headers["Cache-Control"]
    again = client.get("/api/v1/problems", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""


def test_a_change_gives_a_new_etag_and_a_full_answer(client):
    reporter = make_user()
    make_problem(reporter, title="Pothole on Mill Lane")
    etag = client.get("/api/v1/problems").headers["ETag"]
    make_problem(reporter, title="Broken bench in the park")
    changed = client.get("/api/v1/problems", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "Broken bench in the park" in changed.get_data(as_text=True)


def test_any_origin_may_read_the_api_and_see_its_etag(client):
    response = client.get("/api/v1/quests", headers={"Origin": "https://council.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_a_preflight_names_the_methods_and_the_authorization_header(client):
    problem = make_problem(make_user())
    response = client.options(f"/api/v1/problems/{problem.id}/subscription", headers={
        "Origin": "https://civic.example", "Access-Control-Request-Method": "PUT",
        "Access-Control-Request-Headers": "Authorization, Content-Type"})
    assert response.status_code == 200
    methods = {m.strip() for m in response.headers["Access-Control-Allow-Methods"].split(",")}
    assert {"PUT", "DELETE"} <= methods
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_errors_are_readable_cross_origin_too(client):
    response = client.get("/api/v1/problems/999999")
    assert response.status_code == 404
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" not in response.headers


def test_a_read_with_a_token_is_private_to_shared_caches(client):
    organiser = make_organiser()
    response = client.get("/api/v1/quests", headers=auth(organiser))
    assert "private" in response.headers["Cache-Control"]
    assert "Authorization" in response.headers["Vary"]


def test_state_changes_are_never_answered_304(client):
    user = make_user()
    problem = make_problem(make_user())
    response = client.post(f"/api/v1/problems/{problem.id}/confirm", headers={**auth(user), "If-None-Match": "*"})
    assert response.status_code in (200, 201)
    assert "ETag" not in response.headers


def test_open311_reads_are_conditional_and_open_to_all(client):
    first = client.get("/open311/v2/services.json")
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/open311/v2/services.json", headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
