"""The API's error surface: always a JSON error object, never an HTML page."""
from __future__ import annotations

from tests.api import auth, error_of
from tests.factories import make_user


def test_malformed_json_is_400(client):
    response = client.post("/api/v1/problems", data='{"title": ', content_type="application/json",
                           headers=auth(make_user()))
    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_body"


def test_json_that_is_not_an_object_is_400(client):
    headers = auth(make_user())
    for body in ([1, 2], "title", 5, None):
        response = client.post("/api/v1/problems", json=body, headers=headers)
        assert response.status_code == 400, body
        assert error_of(response)["code"] == "malformed_body"


def test_wrong_content_type_is_415(client):
    response = client.post("/api/v1/problems", data={"title": "Pothole"}, headers=auth(make_user()))
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"
    assert "application/json" in error_of(response)["message"]


def test_deeply_nested_json_is_400_not_500(client):
    response = client.post("/api/v1/problems", data="[" * 200_000 + "]" * 200_000,
                           content_type="application/json", headers=auth(make_user()))
    assert response.status_code == 400


def test_unknown_api_url_is_json_404(client):
    for url in ("/api/v1/nothing-here", "/api/v1/problems/1/nothing", "/api/v1", "/api/v2/problems"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert error_of(response)["code"] == "not_found"


def test_unknown_api_url_is_json_404_for_posts_too(client):
    response = client.post("/api/v1/nothing-here", json={})
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_unknown_id_is_json_404(client):
    for url in ("/api/v1/problems/999", "/api/v1/quests/999", "/api/v1/problems/99999999999999999999999"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert error_of(response)["code"] == "not_found"


def test_wrong_method_is_json_405_with_allow_header(client):
    response = client.delete("/api/v1/problems")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_too_large_request_is_json_413(client, app):
    big = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/api/v1/problems", json={"description": big}, headers=auth(make_user()))
    assert response.status_code == 413
    assert error_of(response)["code"] == "request_entity_too_large"


def test_web_pages_keep_their_html_error_pages(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
