"""Team invite links through the API: the captain makes, lists and withdraws them; anyone
holding one sees the team; an account joins with it; and each refusal."""
from __future__ import annotations

from datetime import timedelta

from accounts.models import TeamInvite
from accounts.services import is_member, issue_token
from extensions import db
from tests.api import auth, error_of
from tests.factories import make_team, make_user
from timeutil import utcnow


def read_only(user) -> dict[str, str]:
    token = issue_token(db.session, user=user, name="reader", scope="read")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def make_invite(client, captain, team, **body):
    response = client.post(f"/api/v1/teams/{team.id}/invites", json=body, headers=auth(captain))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response


def test_the_captain_makes_an_invite_link_shown_once_and_someone_joins_with_it(client):
    captain, joiner = make_user(), make_user(name="Ivy Invited")
    team = make_team(captain, name="Quayside Sweepers")
    response = make_invite(client, captain, team, expires_in_days=7, single_use=True)
    body = response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    assert body["link"].endswith(f"/teams/invite/{body['token']}") and body["link"].startswith("http")
    assert body["single_use"] is True and body["uses"] == 0 and body["expired"] is False
    assert body["expires_at"] is not None
    stored = db.session.get(TeamInvite, body["id"])
    assert body["token"] not in stored.token_hash  # only a digest is kept

    listed = client.get(response.headers["Location"], headers=auth(captain)).get_json()
    assert [i["id"] for i in listed["items"]] == [body["id"]]
    assert body["token"] not in str(listed)  # never shown again

    preview = client.get(f"/api/v1/teams/invites/{body['token']}")
    assert preview.status_code == 200 and preview.get_json()["name"] == "Quayside Sweepers"

    joined = client.post(f"/api/v1/teams/invites/{body['token']}/accept", headers=auth(joiner))
    assert joined.status_code == 200 and "Ivy Invited" in [m["name"] for m in joined.get_json()["members"]]
    assert is_member(db.session, user_id=joiner.id, team_id=team.id)
    used = client.post(f"/api/v1/teams/invites/{body['token']}/accept", headers=auth(make_user()))
    assert used.status_code == 410 and error_of(used)["code"] == "invite_not_usable"
    assert client.get(f"/api/v1/teams/invites/{body['token']}").status_code == 410
    assert client.get(f"/api/v1/teams/{team.id}/invites", headers=auth(captain)).get_json()["items"][0]["uses"] == 1


def test_a_withdrawn_link_stops_working_and_leaves_the_list(client):
    captain = make_user()
    team = make_team(captain)
    body = make_invite(client, captain, team).get_json()
    assert body["expires_at"] is None and body["single_use"] is False
    withdrawn = client.delete(f"/api/v1/teams/{team.id}/invites/{body['id']}", headers=auth(captain))
    assert withdrawn.status_code == 200 and withdrawn.get_json()["revoked_at"] is not None
    refused = client.post(f"/api/v1/teams/invites/{body['token']}/accept", headers=auth(make_user()))
    assert refused.status_code == 410 and "withdrawn" in error_of(refused)["message"]
    assert client.get(f"/api/v1/teams/{team.id}/invites", headers=auth(captain)).get_json()["total"] == 0


def test_an_expired_link_is_listed_as_expired_and_refused(client):
    captain = make_user()
    team = make_team(captain)
    body = make_invite(client, captain, team, expires_in_days=1).get_json()
    invite = db.session.get(TeamInvite, body["id"])
    invite.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get(f"/api/v1/teams/{team.id}/invites", headers=auth(captain)).get_json()["items"][0]["expired"]
    refused = client.post(f"/api/v1/teams/invites/{body['token']}/accept", headers=auth(make_user()))
    assert refused.status_code == 410 and "expired" in error_of(refused)["message"]


def test_only_the_captain_makes_lists_or_withdraws_links(client):
    captain, member = make_user(), make_user()
    team = make_team(captain, members=(member,))
    invite_id = make_invite(client, captain, team).get_json()["id"]
    for headers in (auth(member), auth(make_user())):
        assert client.get(f"/api/v1/teams/{team.id}/invites", headers=headers).status_code == 403
        made = client.post(f"/api/v1/teams/{team.id}/invites", headers=headers)
        assert made.status_code == 403 and error_of(made)["code"] == "forbidden"
        assert client.delete(f"/api/v1/teams/{team.id}/invites/{invite_id}", headers=headers).status_code == 403
    assert db.session.get(TeamInvite, invite_id).revoked_at is None
    assert db.session.query(TeamInvite).count() == 1


def test_invite_routes_need_a_token_and_writes_a_write_token(client):
    captain = make_user()
    team = make_team(captain)
    body = make_invite(client, captain, team).get_json()
    assert client.get(f"/api/v1/teams/{team.id}/invites").status_code == 401
    assert client.post(f"/api/v1/teams/{team.id}/invites").status_code == 401
    assert client.post(f"/api/v1/teams/invites/{body['token']}/accept").status_code == 401
    reader = read_only(captain)
    assert client.get(f"/api/v1/teams/{team.id}/invites", headers=reader).status_code == 200
    refused = client.post(f"/api/v1/teams/{team.id}/invites", headers=reader)
    assert refused.status_code == 403 and error_of(refused)["code"] == "insufficient_scope"
    assert client.delete(f"/api/v1/teams/{team.id}/invites/{body['id']}", headers=reader).status_code == 403
    joiner = make_user()
    assert client.post(f"/api/v1/teams/invites/{body['token']}/accept", headers=read_only(joiner)).status_code == 403
    assert not is_member(db.session, user_id=joiner.id, team_id=team.id)


def test_unknown_teams_links_and_tokens_are_404(client):
    captain = make_user()
    other_captain = make_user()
    team, other = make_team(captain), make_team(other_captain)
    foreign = make_invite(client, other_captain, other).get_json()
    headers = auth(captain)
    assert client.get("/api/v1/teams/999999/invites", headers=headers).status_code == 404
    assert client.post("/api/v1/teams/999999/invites", headers=headers).status_code == 404
    assert client.delete(f"/api/v1/teams/{team.id}/invites/999999", headers=headers).status_code == 404
    # Another team's link cannot be withdrawn through your own team.
    assert client.delete(f"/api/v1/teams/{team.id}/invites/{foreign['id']}", headers=headers).status_code == 404
    unknown = client.post("/api/v1/teams/invites/not-a-real-token/accept", headers=headers)
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "unknown_invite"
    assert client.get("/api/v1/teams/invites/not-a-real-token").status_code == 404


def test_bad_invite_fields_and_joining_twice(client):
    captain = make_user()
    team = make_team(captain)
    headers = auth(captain)
    bad = client.post(f"/api/v1/teams/{team.id}/invites", json={"expires_in_days": 3, "single_use": "yes"},
                      headers=headers)
    assert bad.status_code == 422 and set(error_of(bad)["fields"]) == {"expires_in_days", "single_use"}
    token = make_invite(client, captain, team).get_json()["token"]
    again = client.post(f"/api/v1/teams/invites/{token}/accept", headers=headers)
    assert again.status_code == 409 and error_of(again)["code"] == "already_in_team"


def test_a_child_cannot_join_a_team_not_run_by_a_teacher_by_link(client):
    captain = make_user()
    team = make_team(captain)
    token = make_invite(client, captain, team).get_json()["token"]
    child = make_user(name="Kit Child")
    headers = auth(child)  # a token made before the account became a child's (children get none)
    child.is_child = True
    db.session.commit()
    refused = client.post(f"/api/v1/teams/invites/{token}/accept", headers=headers)
    assert refused.status_code == 403 and error_of(refused)["code"] == "child_account"
    assert not is_member(db.session, user_id=child.id, team_id=team.id)


def test_a_closed_team_makes_no_links(client):
    captain = make_user()
    team = make_team(captain)
    headers = auth(captain)
    assert client.post(f"/api/v1/teams/{team.id}/leave", headers=headers).status_code == 200
    closed = client.post(f"/api/v1/teams/{team.id}/invites", headers=headers)
    assert closed.status_code == 409 and error_of(closed)["code"] == "team_closed"
