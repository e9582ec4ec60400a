"""POST /api/v1/tokens and bearer authentication."""
from __future__ import annotations

import hashlib

from sqlalchemy import text

from accounts.models import ApiToken
from extensions import db
from tests.api import auth, error_of
from tests.factories import PASSWORD, make_user
from timeutil import utcnow

PROBLEM = {"title": "Broken bench", "description": "The slats are snapped.", "category": "other",
           "lat": 51.45, "lon": -2.59}


def test_valid_credentials_get_a_token_that_authenticates(client):
    user = make_user(email="Token.Person@example.org")
    response = client.post("/api/v1/tokens", json={"email": "token.person@example.org", "password": PASSWORD})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    token = response.get_json()["token"]

    created = client.post("/api/v1/problems", json=PROBLEM, headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201
    assert user.email not in created.get_data(as_text=True)


def test_wrong_password_is_401(client):
    user = make_user()
    response = client.post("/api/v1/tokens", json={"email": user.email, "password": "not the password"})
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_credentials"


def test_unknown_email_is_401_without_echoing_the_email(client):
    response = client.post("/api/v1/tokens", json={"email": "nobody@example.org", "password": PASSWORD})
    assert response.status_code == 401
    assert "nobody@example.org" not in response.get_data(as_text=True)


def test_missing_or_mistyped_credentials_are_422_naming_the_fields(client):
    response = client.post("/api/v1/tokens", json={"email": ["a@example.org"]})
    assert response.status_code == 422
    assert set(error_of(response)["fields"]) == {"email", "password"}


def test_token_is_stored_only_as_its_digest(client):
    user = make_user()
    token = client.post("/api/v1/tokens", json={"email": user.email, "password": PASSWORD}).get_json()["token"]
    rows = db.session.execute(text("SELECT * FROM api_tokens")).all()
    assert len(rows) == 1
    assert all(token not in str(value) for value in rows[0])
    stored = db.session.scalar(db.select(ApiToken.token_hash))
    assert stored == hashlib.sha256(token.encode()).hexdigest()


def test_state_changing_route_without_token_is_401(client):
    response = client.post("/api/v1/problems", json=PROBLEM)
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_token_is_401(client):
    response = client.post("/api/v1/problems", json=PROBLEM, headers={"Authorization": "Bearer fq_made-up"})
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_token"


def test_other_authorization_schemes_are_401(client):
    response = client.post("/api/v1/problems", json=PROBLEM, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401


def test_revoked_token_is_401(client):
    headers = auth(make_user())
    token = db.session.scalar(db.select(ApiToken))
    token.revoked_at = utcnow()
    db.session.commit()
    assert client.post("/api/v1/problems", json=PROBLEM, headers=headers).status_code == 401


def test_session_cookie_does_not_authenticate_the_api(client, login):
    login(make_user())
    assert client.post("/api/v1/problems", json=PROBLEM).status_code == 401


def test_public_reads_need_no_token(client):
    for url in ("/api/v1/problems", "/api/v1/quests", "/api/v1/leaderboards/participants"):
        assert client.get(url).status_code == 200, url


def test_a_read_token_reads_but_may_not_change_anything(client):
    user = make_user(email="reader@example.org")
    made = client.post("/api/v1/tokens", json={"email": "reader@example.org", "password": PASSWORD,
                                               "name": "Dashboard", "scope": "read"})
    assert made.status_code == 201 and made.get_json()["scope"] == "read"
    headers = {"Authorization": f"Bearer {made.get_json()['token']}"}
    assert client.get("/api/v1/problems", headers=headers).status_code == 200
    refused = client.post("/api/v1/problems", json=PROBLEM, headers=headers)
    assert refused.status_code == 403 and error_of(refused)["code"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    assert db.session.scalar(text("SELECT count(*) FROM problems")) == 0
    assert user.id  # the token stays theirs: the refusal is about what it may do, not who


def test_an_unknown_scope_is_422_naming_it(client):
    make_user(email="reader@example.org")
    response = client.post("/api/v1/tokens", json={"email": "reader@example.org", "password": PASSWORD,
                                                   "scope": "admin"})
    assert response.status_code == 422 and list(error_of(response)["fields"]) == ["scope"]
