"""DELETE /api/v1/me: deleting your own account through the API, as the "Your data" page
does it (accounts.mydata.delete_account), with each of its refusals."""
from __future__ import annotations

from sqlalchemy import func, select

from accounts.models import ApiToken, Team, User
from challenges.models import Problem
from extensions import db
from tests.api import auth, error_of
from tests.factories import PASSWORD, make_problem, make_team, make_user


def test_deleting_my_account_keeps_my_report_and_ends_every_token_at_once(client):
    alice = make_user(name="Alice Leaving")
    alice_id, problem = alice.id, make_problem(alice)
    headers, spare = auth(alice), auth(alice)
    response = client.delete("/api/v1/me", json={"password": PASSWORD}, headers=headers)
    assert response.status_code == 204 and response.data == b""
    assert response.headers["Cache-Control"] == "no-store"
    db.session.expire_all()
    assert db.session.get(User, alice_id) is None
    assert not db.session.scalar(select(func.count()).select_from(ApiToken))
    for token in (headers, spare):  # this token and every other one stop working
        gone = client.get("/api/v1/me", headers=token)
        assert gone.status_code == 401 and error_of(gone)["code"] == "invalid_token"
    report = client.get(f"/api/v1/problems/{problem.id}")
    assert report.status_code == 200  # what she did stays
    stand_in = db.session.get(Problem, problem.id).reporter
    assert stand_in.display_name == "a former participant" and stand_in.email is None


def test_a_wrong_password_is_422_on_the_field_and_deletes_nothing(client):
    alice = make_user()
    headers = auth(alice)
    response = client.delete("/api/v1/me", json={"password": "not my password at all"}, headers=headers)
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "wrong_password" and list(error["fields"]) == ["password"]
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # still here, token working


def test_the_password_is_required_and_must_be_json(client):
    headers = auth(make_user())
    missing = client.delete("/api/v1/me", json={}, headers=headers)
    assert missing.status_code == 422 and list(error_of(missing)["fields"]) == ["password"]
    assert client.delete("/api/v1/me", json={"password": 12345}, headers=headers).status_code == 422
    assert client.delete("/api/v1/me", headers=headers).status_code == 400  # no body
    assert client.delete("/api/v1/me", data="password=x", content_type="application/x-www-form-urlencoded",
                         headers=headers).status_code == 415
    assert client.delete("/api/v1/me", json={"password": PASSWORD}).status_code == 401
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_a_read_token_cannot_delete_the_account(client):
    from accounts.services import issue_token

    alice = make_user()
    token = issue_token(db.session, user=alice, name="read", scope="read")
    db.session.commit()
    response = client.delete("/api/v1/me", json={"password": PASSWORD}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403 and error_of(response)["code"] == "insufficient_scope"
    assert db.session.get(User, alice.id) is not None


def test_a_childs_account_is_refused_their_teacher_erases_it(client):
    child = make_user(name="Clever Fox")
    headers = auth(child)  # children are issued no token: this one predates the account becoming a child's
    child.is_child, child.hidden_from_boards = True, True
    db.session.commit()
    response = client.delete("/api/v1/me", json={"password": PASSWORD}, headers=headers)
    assert response.status_code == 403 and error_of(response)["code"] == "child_account"
    assert "teacher" in error_of(response)["message"]
    db.session.expire_all()
    assert db.session.get(User, child.id) is not None


def test_a_captain_with_members_hands_over_first(client):
    captain = make_user()
    team = make_team(captain, name="Bright Sparks", members=(make_user(),))
    response = client.delete("/api/v1/me", json={"password": PASSWORD}, headers=auth(captain))
    assert response.status_code == 409 and error_of(response)["code"] == "captain_still_needed"
    assert "Bright Sparks" in error_of(response)["message"]
    db.session.expire_all()
    assert db.session.get(Team, team.id).captain_id == captain.id


def test_guessing_the_password_through_the_api_is_rate_limited(app, ctx, database_url):
    from app import create_app
    from tests.conftest import app_config

    limited = create_app({**app_config(database_url, None), "AUTO_MIGRATE": False, "RATELIMIT_ENABLED": True,
                          "RATELIMIT_OVERRIDES": {"api.delete_me": "2/hour"}})
    alice = make_user()
    headers = auth(alice)
    client = limited.test_client()
    assert [client.delete("/api/v1/me", json={"password": f"guess {n}"}, headers=headers).status_code
            for n in range(3)] == [422, 422, 429]
    assert client.delete("/api/v1/me", json={"password": PASSWORD}, headers=headers).status_code == 429
    db.session.expire_all()
    assert db.session.get(User, alice.id) is not None
