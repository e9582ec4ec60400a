"""Rate limits (ratelimits.py): which requests spend whose budget, the 429 answers on each
surface, and storage in Redis or memory, with Redis down or up.

The shared test app runs without limits; each test here builds an app with limits on and
small limits, on the same database (its tables are wiped after each test as usual).
"""
from __future__ import annotations

import json

import pytest
import redis
from flask_limiter import Limit, RateLimitExceeded

import ratelimits
from app import create_app
from config import ConfigError, from_environment
from tests.api import auth, error_of
from tests.conftest import TEST_REDIS_URL, CsrfClient, app_config, require_service
from tests.factories import PASSWORD, make_user

REPORT = {"title": "Broken bench in Queen Square", "description": "The slats are snapped.",
          "category": "other", "lat": "51.4505", "lon": "-2.5945", "address": "Queen Square"}
API_REPORT = {**REPORT, "lat": 51.4505, "lon": -2.5945}
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def limited_app(app, ctx, database_url):
    """Build an app with rate limits on: limited_app({"accounts.login": "3/minute"}, ...)."""
    def build(overrides: dict[str, str], **config):
        limited = create_app({**app_config(database_url, None), "AUTO_MIGRATE": False,
                              "RATELIMIT_ENABLED": True, "RATELIMIT_OVERRIDES": overrides, **config})
        limited.test_client_class = CsrfClient
        return limited
    return build


def bad_login(client, **kwargs):
    return client.post("/login", data={"email": "nobody@example.org", "password": "wrong password"}, **kwargs)


def as_user(client, user):
    with client.session_transaction() as sess:
        sess["_user_id"] = user.get_id()
        sess["_fresh"] = True
    return client


def test_login_posts_past_the_limit_get_a_friendly_page_with_retry_after(limited_app):
    client = limited_app({"accounts.login": "3/minute"}).test_client()
    assert [bad_login(client).status_code for _ in range(3)] == [422, 422, 422]
    response = bad_login(client)
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Please slow down" in page and "Please wait a minute and try again." in page


def test_reading_the_login_page_is_never_limited(limited_app):
    client = limited_app({"accounts.login": "2/minute"}).test_client()
    assert all(client.get("/login").status_code == 200 for _ in range(5))
    assert [bad_login(client).status_code for _ in range(3)] == [422, 422, 429]
    assert client.get("/login").status_code == 200


def test_a_successful_login_carries_no_retry_after(limited_app):
    user = make_user()
    client = limited_app({"accounts.login": "3/minute"}).test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302 and "Retry-After" not in response.headers


def test_token_creation_past_the_limit_is_a_json_rate_limited_error(limited_app):
    user = make_user()
    client = limited_app({"api.create_token": "2/minute"}).test_client()
    body = {"email": user.email, "password": PASSWORD}
    assert [client.post("/api/v1/tokens", json=body).status_code for _ in range(2)] == [201, 201]
    response = client.post("/api/v1/tokens", json=body)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1
    error = error_of(response)
    assert error["code"] == "rate_limited" and error["fields"] == {}


def test_one_persons_reporting_does_not_spend_anothers(limited_app):
    first, second = make_user(), make_user()
    limited = limited_app({"challenges.new_problem": "2/hour"})
    first_client, second_client = as_user(limited.test_client(), first), as_user(limited.test_client(), second)
    statuses = [first_client.post("/problems/new", data={**REPORT, "lat": f"51.4{n}"}).status_code
                for n in range(3)]  # far apart, so none is offered as a duplicate of another
    assert statuses == [302, 302, 429]
    assert second_client.post("/problems/new", data={**REPORT, "lat": "51.49"}).status_code == 302  # own budget


def test_api_reporting_is_limited_per_token_user(limited_app):
    first, second = auth(make_user()), auth(make_user())
    client = limited_app({"api.report_problem": "1/hour"}).test_client()
    assert client.post("/api/v1/problems", json=API_REPORT, headers=first).status_code == 201
    response = client.post("/api/v1/problems", json={**API_REPORT, "lat": 51.46}, headers=first)
    assert response.status_code == 429 and error_of(response)["code"] == "rate_limited"
    assert client.post("/api/v1/problems", json={**API_REPORT, "lat": 51.47}, headers=second).status_code == 201


def test_bad_tokens_spend_their_addresses_budget_and_still_get_401(limited_app):
    client = limited_app({"api.report_problem": "2/hour"}).test_client()
    statuses = [client.post("/api/v1/problems", json=API_REPORT,
                            headers={"Authorization": f"Bearer not-a-token-{n}"}).status_code for n in range(3)]
    assert statuses == [401, 401, 429]


def test_forwarded_for_is_ignored_unless_the_app_is_behind_a_proxy(limited_app):
    client = limited_app({"accounts.login": "1/minute"}).test_client()
    assert bad_login(client, headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 422
    assert bad_login(client, headers={"X-Forwarded-For": "203.0.113.2"}).status_code == 429

    client = limited_app({"accounts.login": "1/minute"}, TRUSTED_PROXIES=1).test_client()
    assert bad_login(client, headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 422
    assert bad_login(client, headers={"X-Forwarded-For": "198.51.100.9, 203.0.113.2"}).status_code == 422
    assert bad_login(client, headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 429


def test_building_another_app_does_not_count_a_request_twice(limited_app):
    limited_app({"accounts.login": "3/minute"})
    client = limited_app({"accounts.login": "3/minute"}).test_client()
    assert [bad_login(client).status_code for _ in range(4)] == [422, 422, 422, 429]


def test_requests_still_succeed_when_redis_is_unreachable(limited_app):
    user = make_user()
    client = limited_app({"accounts.login": "3/minute"}, RATELIMIT_STORAGE_URI=DEAD_REDIS).test_client()
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    assert [bad_login(client).status_code for _ in range(3)] == [422, 422, 429]  # counted in memory meanwhile


def test_counters_live_in_redis_when_it_is_configured(limited_app, redis_url):
    # Without REDIS_URL (the SQLite pass) this still runs, on the test Redis: skipped only
    # on a laptop without Redis, and a failure in CI.
    redis_url = redis_url or TEST_REDIS_URL
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        require_service("Redis", str(exc))
    store = redis.Redis.from_url(redis_url)
    client = limited_app({"accounts.login": "2/minute"}, REDIS_URL=redis_url).test_client()
    try:
        assert [bad_login(client).status_code for _ in range(3)] == [422, 422, 429]
        keys = [key.decode() for key in store.scan_iter("LIMITS:*")]
        assert any("fixquest" in key and "accounts.login" in key for key in keys), keys
    finally:
        for key in store.scan_iter("LIMITS:*fixquest*"):
            store.delete(key)


def test_open_data_downloads_are_limited_per_address_with_retry_after(limited_app):
    client = limited_app({"opendata.download": "2/minute"}).test_client()
    assert [client.get("/data/problems.csv").status_code for _ in range(2)] == [200, 200]
    response = client.get("/data/quests.json")  # every dataset spends the same budget
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["Access-Control-Allow-Origin"] == "*"  # software can read why
    other = client.get("/data/problems.csv", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status_code == 200  # another address has its own budget


def test_the_open_data_catalogue_is_not_limited(limited_app):
    client = limited_app({"opendata.download": "1/minute"}).test_client()
    assert all(client.get(path).status_code == 200 for path in ("/data", "/data.json") for _ in range(3))


def test_open311_paths_get_the_spec_error_list(limited_app):
    limited = limited_app({})
    [runtime_limit] = Limit(limit_provider="60/minute", key_function=lambda: "key:test")
    breach = RateLimitExceeded(runtime_limit)
    with limited.test_request_context("/open311/v2/requests.json", method="POST"):
        response = ratelimits.too_many_requests(breach)
    assert response.status_code == 429 and response.headers["Retry-After"] == "60"
    [entry] = json.loads(response.get_data())
    assert entry["code"] == 429 and "Please wait" in entry["description"]


def test_every_limited_endpoint_exists_but_the_password_reset_slot(app):
    assert set(ratelimits.LIMITS) - set(app.view_functions) == ratelimits.NOT_YET_ROUTED


def test_limits_are_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("FIXQUEST_RATELIMIT_ACCOUNTS_LOGIN", "20/minute;100/hour")
    monkeypatch.setenv("FIXQUEST_RATELIMIT_API_CREATE_TOKEN", "5/minute")
    monkeypatch.setenv("RATELIMIT_ENABLED", "0")
    config = from_environment(str(tmp_path))
    assert config["RATELIMIT_OVERRIDES"] == {"accounts.login": "20/minute;100/hour", "api.create_token": "5/minute"}
    assert config["RATELIMIT_ENABLED"] is False
    assert ratelimits.effective_limits(config["RATELIMIT_OVERRIDES"])["accounts.login"] == "20/minute;100/hour"


@pytest.mark.parametrize("overrides", [{"accounts.logn": "5/minute"}, {"accounts.login": "lots"}])
def test_a_wrong_limit_setting_stops_the_app_starting(overrides):
    with pytest.raises(ConfigError):
        ratelimits.effective_limits(overrides)
