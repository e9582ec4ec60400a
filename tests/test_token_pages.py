"""Personal access tokens made in the web pages: named, read or write, shown once, stored
hashed, revocable, with when each was last used."""
from __future__ import annotations

import hashlib
import re

from sqlalchemy import select

from accounts.models import ApiToken
from extensions import db
from tests.factories import make_user

PROBLEM = {"title": "Broken bench", "description": "The slats are snapped.", "category": "other",
           "lat": 51.45, "lon": -2.59}


def make_token(client, name="My phone", scope="write") -> str:
    page = client.post("/account/tokens", data={"name": name, "scope": scope})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    return re.search(r'id="new-token"[^>]*value="(fq_[^"]+)"', page.get_data(as_text=True)).group(1)


def test_a_token_is_shown_once_stored_hashed_and_works(client, login):
    login(make_user())
    token = make_token(client)
    row = db.session.scalar(select(ApiToken))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and row.scope == "write"
    again = client.get("/account/tokens").get_data(as_text=True)
    assert token not in again and "My phone" in again and "<td>never</td>" in again
    assert client.post("/api/v1/problems", json=PROBLEM, headers={"Authorization": f"Bearer {token}"}).status_code == 201
    assert "<td>never</td>" not in client.get("/account/tokens").get_data(as_text=True)  # last used: now


def test_a_read_token_from_the_page_cannot_act(client, login):
    login(make_user())
    token = make_token(client, name="Ward dashboard", scope="read")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/quests", headers=headers).status_code == 200
    assert client.post("/api/v1/problems", json=PROBLEM, headers=headers).status_code == 403


def test_revoking_stops_the_token_at_once(client, login):
    login(make_user())
    token = make_token(client)
    row = db.session.scalar(select(ApiToken))
    assert client.post(f"/account/tokens/{row.id}/revoke", data={}).status_code == 302
    assert client.post("/api/v1/problems", json=PROBLEM, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert "revoked" in client.get("/account/tokens").get_data(as_text=True)


def test_nobody_else_can_revoke_or_see_your_tokens(client, login):
    owner = make_user()
    login(owner)
    make_token(client, name="Owner's script")
    row = db.session.scalar(select(ApiToken))
    login(make_user())
    assert "Owner's script" not in client.get("/account/tokens").get_data(as_text=True)
    assert client.post(f"/account/tokens/{row.id}/revoke", data={}).status_code == 404
    db.session.expire_all()
    assert db.session.get(ApiToken, row.id).revoked_at is None


def test_a_missing_name_or_scope_is_explained_and_makes_nothing(client, login):
    login(make_user())
    page = client.post("/account/tokens", data={"name": "", "scope": "everything"})
    assert page.status_code == 422 and "fq_" not in page.get_data(as_text=True)
    assert db.session.scalar(select(ApiToken)) is None


def test_the_page_needs_a_login_and_posts_need_csrf(client, login):
    assert client.get("/account/tokens").status_code == 302
    login(make_user())
    assert client.post("/account/tokens", data={"name": "x", "scope": "read"}, csrf=False).status_code == 400
    assert db.session.scalar(select(ApiToken)) is None
