"""POST requests: api_keys, required arguments, duplicates, rate limits."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from accounts.models import User
from challenges.models import Confirmation, Problem, Subscription
from extensions import db
from open311 import services
from open311.models import Open311ApiKey, Open311Request
from tests.open311.conftest import BASE, check_json, check_xml


def test_a_valid_post_creates_a_problem_and_answers_its_id(post, client):
    body = check_json(post(media_url="https://example.org/p.jpg"), "post_response")
    problem = db.session.get(Problem, int(body[0]["service_request_id"]))
    assert (problem.category, problem.title, problem.lat, problem.lon) == (
        "pothole", "A deep pothole by the bus stop.", 51.4545, -2.5879)
    assert problem.reporter.display_name == "Open311 client Bristol City Council"
    assert db.session.get(Open311Request, problem.id).media_url == "https://example.org/p.jpg"
    detail = check_json(client.get(f"{BASE}/requests/{problem.id}.json"), "requests")
    assert detail[0]["media_url"] == "https://example.org/p.jpg"


def test_xml_post_answers_a_service_requests_document(post):
    tree = check_xml(post("xml"), "service_requests", "request")
    assert [child.tag for child in tree.find("request")] == ["service_request_id", "service_notice", "account_id"]


def test_the_system_reporter_cannot_log_in_follows_nothing_and_has_no_real_email(post):
    post()
    reporter = db.session.scalar(select(User).where(User.role == services.SYSTEM_ROLE))
    assert reporter.email.endswith(".invalid") and reporter.password_hash == "!" and reporter.hidden_from_boards
    assert db.session.scalar(select(Subscription).where(Subscription.user_id == reporter.id)) is None


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("key", [None, "", "o311_not-a-key"])
def test_post_without_a_valid_api_key_is_403(post, fmt, key):
    response = post(fmt, api_key=key)
    assert response.status_code == 403
    if fmt == "json":
        assert check_json(response, "errors")[0]["code"] == 403
    else:
        assert check_xml(response, "errors", "error").find("error/code").text == "403"
    assert db.session.scalar(select(Problem)) is None


def test_a_revoked_key_is_403(post, api_key):
    key = db.session.scalar(select(Open311ApiKey))
    services.revoke_key(db.session, key_id=key.id)
    db.session.commit()
    assert post().status_code == 403


@pytest.mark.parametrize("missing, field", [
    ({"service_code": None}, "service_code"),
    ({"service_code": "unicorns"}, "service_code"),
    ({"lat": None, "long": None}, "lat"),
    ({"long": None}, "long"),
    ({"lat": "north"}, "lat"),
    ({"lat": "91"}, "lat"),
    ({"lat": None, "long": None, "address_string": "1 Broad Street"}, "lat"),
    ({"description": "x" * 4001}, "description"),
    ({"media_url": "javascript:alert(1)"}, "media_url"),
])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_missing_or_wrong_arguments_are_a_400_error_list(post, missing, field, fmt):
    response = post(fmt, **missing)
    assert response.status_code == 400
    if fmt == "json":
        errors = check_json(response, "errors")
        assert [e["code"] for e in errors] == [400] and errors[0]["description"].startswith(field + ":")
    else:
        tree = check_xml(response, "errors", "error")
        assert tree.find("error/description").text.startswith(field + ":")
    assert db.session.scalar(select(Problem)) is None


def test_several_missing_arguments_are_listed_together(post):
    errors = check_json(post(service_code=None, lat=None, long=None), "errors")
    assert [e["description"].split(":")[0] for e in errors] == ["service_code", "lat"]


def test_description_of_exactly_4000_characters_is_accepted(post):
    assert post(description="y" * 4000).status_code == 200


def test_no_description_gets_the_service_name_as_title(post):
    body = check_json(post(description=None), "post_response")
    problem = db.session.get(Problem, int(body[0]["service_request_id"]))
    assert problem.title == "Pothole" and "Open311" in problem.description


def test_a_duplicate_is_answered_with_the_existing_id_and_counted_as_a_confirmation(post, client, ctx):
    from tests.factories import make_problem, make_user

    existing = make_problem(make_user())
    body = check_json(post(lat="51.45452", long="-2.58791"), "post_response")
    assert body[0]["service_request_id"] == str(existing.id)
    db.session.expire_all()
    assert db.session.get(Problem, existing.id).confirmations_count == 1
    assert db.session.scalar(select(Problem).where(Problem.id != existing.id)) is None
    again = check_json(post(lat="51.45452", long="-2.58791"), "post_response")  # same client again
    assert again[0]["service_request_id"] == str(existing.id)
    db.session.expire_all()
    assert db.session.get(Problem, existing.id).confirmations_count == 1
    assert len(db.session.scalars(select(Confirmation)).all()) == 1


def test_a_clients_own_earlier_request_is_answered_again(post):
    first = check_json(post(), "post_response")[0]["service_request_id"]
    assert check_json(post(), "post_response")[0]["service_request_id"] == first


def test_another_service_at_the_same_place_is_a_new_request(post):
    first = check_json(post(), "post_response")[0]["service_request_id"]
    assert check_json(post(service_code="litter"), "post_response")[0]["service_request_id"] != first


def test_posts_over_the_rate_limit_are_429(post, app, new_key, client):
    app.config["OPEN311_RATE_LIMIT"] = 3
    try:
        statuses = [post(lat=f"51.4{i}").status_code for i in range(4)]
        over = post("xml", lat="51.49")
        other_key = client.post(f"{BASE}/requests.json", csrf=False, data={
            "api_key": new_key("Another client"), "service_code": "litter", "lat": "51.3", "long": "-2.5"})
    finally:
        del app.config["OPEN311_RATE_LIMIT"]
    assert statuses == [200, 200, 200, 429]
    assert check_xml(over, "errors", "error").find("error/code").text == "429"
    assert other_key.status_code == 200


def test_the_redis_limiter_counts_across_calls():
    import fakeredis

    from open311.ratelimit import RedisRateLimiter

    limiter = RedisRateLimiter(fakeredis.FakeRedis(decode_responses=True))
    assert [limiter.hit("k", limit=2, window_s=60, now=120.0) for _ in range(3)] == [True, True, False]
    assert limiter.hit("k", limit=2, window_s=60, now=180.0)  # a new window


def test_post_needs_no_csrf_token(post):
    assert post().status_code == 200
