"""Claiming quests, submitting evidence and reviewing claims through the API."""
from __future__ import annotations

from datetime import timedelta

from extensions import db
from tests.api import auth, error_of
from tests.factories import approve, make_claim, make_organiser, make_quest, make_team, make_user
from timeutil import utcnow

CLAIM_FIELDS = {"id", "quest_id", "team_id", "status", "evidence", "created_at", "submitted_at", "decided_at",
                "unpaid_reason"}


def test_claiming_a_solo_quest_needs_no_body(client):
    quest = make_quest(make_organiser())
    response = client.post(f"/api/v1/quests/{quest.id}/claims", headers=auth(make_user()))
    assert response.status_code == 201
    claim = response.get_json()
    assert set(claim) == CLAIM_FIELDS
    assert (claim["quest_id"], claim["team_id"], claim["status"]) == (quest.id, None, "taken")
    assert response.headers["Location"].endswith(f"/api/v1/claims/{claim['id']}")


def test_claiming_a_team_quest_for_my_team(client):
    captain = make_user()
    team = make_team(captain)
    quest = make_quest(make_organiser(), mode="team")
    response = client.post(f"/api/v1/quests/{quest.id}/claims", json={"team_id": team.id}, headers=auth(captain))
    assert response.status_code == 201
    assert response.get_json()["team_id"] == team.id


def test_team_quest_without_a_team_is_422_naming_team_id(client):
    quest = make_quest(make_organiser(), mode="team")
    response = client.post(f"/api/v1/quests/{quest.id}/claims", json={}, headers=auth(make_user()))
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["team_id"]


def test_team_id_of_the_wrong_type_is_422(client):
    quest = make_quest(make_organiser(), mode="team")
    for bad in ("x", 1.5, [1], True):
        response = client.post(f"/api/v1/quests/{quest.id}/claims", json={"team_id": bad},
                               headers=auth(make_user()))
        assert response.status_code == 422, bad
        assert list(error_of(response)["fields"]) == ["team_id"]


def test_claiming_for_someone_elses_team_is_403(client):
    team = make_team(make_user())
    quest = make_quest(make_organiser(), mode="team")
    response = client.post(f"/api/v1/quests/{quest.id}/claims", json={"team_id": team.id},
                           headers=auth(make_user()))
    assert response.status_code == 403


def test_claiming_twice_is_409(client):
    quest = make_quest(make_organiser())
    headers = auth(make_user())
    assert client.post(f"/api/v1/quests/{quest.id}/claims", headers=headers).status_code == 201
    response = client.post(f"/api/v1/quests/{quest.id}/claims", headers=headers)
    assert response.status_code == 409
    assert error_of(response)["code"] == "already_claimed"


def test_claiming_a_closed_quest_is_409(client):
    quest = make_quest(make_organiser())
    quest.ends_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.post(f"/api/v1/quests/{quest.id}/claims", headers=auth(make_user()))
    assert response.status_code == 409
    assert error_of(response)["code"] == "quest_closed"


def test_claiming_an_unknown_quest_is_404(client):
    response = client.post("/api/v1/quests/777/claims", headers=auth(make_user()))
    assert response.status_code == 404


def test_claimant_submits_evidence(client):
    user = make_user()
    claim = make_claim(user, make_quest(make_organiser()))
    response = client.post(f"/api/v1/claims/{claim.id}/submit", json={"evidence": "Two bags cleared."},
                           headers=auth(user))
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["evidence"]) == ("submitted", "Two bags cleared.")
    assert body["submitted_at"].endswith("Z")


def test_submitting_without_evidence_is_422_naming_evidence(client):
    user = make_user()
    claim = make_claim(user, make_quest(make_organiser()))
    for body in ({}, {"evidence": "   "}, {"evidence": ["a list"]}):
        response = client.post(f"/api/v1/claims/{claim.id}/submit", json=body, headers=auth(user))
        assert response.status_code == 422, body
        assert list(error_of(response)["fields"]) == ["evidence"]


def test_submitting_twice_is_409(client):
    user = make_user()
    claim = make_claim(user, make_quest(make_organiser()), submit=True)
    response = client.post(f"/api/v1/claims/{claim.id}/submit", json={"evidence": "Again."}, headers=auth(user))
    assert response.status_code == 409


def test_someone_elses_claim_is_404_to_a_participant(client):
    claim = make_claim(make_user(), make_quest(make_organiser()))
    stranger = auth(make_user())
    assert client.get(f"/api/v1/claims/{claim.id}", headers=stranger).status_code == 404
    response = client.post(f"/api/v1/claims/{claim.id}/submit", json={"evidence": "Mine now."}, headers=stranger)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    response = client.post(f"/api/v1/claims/{claim.id}/review", json={"decision": "approve"}, headers=stranger)
    assert response.status_code == 404


def test_team_members_and_organisers_can_read_a_claim(client):
    captain, member = make_user(), make_user()
    team = make_team(captain, members=(member,))
    claim = make_claim(captain, make_quest(make_organiser(), mode="team"), team=team)
    for reader in (captain, member, make_organiser()):
        response = client.get(f"/api/v1/claims/{claim.id}", headers=auth(reader))
        assert response.status_code == 200
        assert response.get_json()["id"] == claim.id


def test_unknown_claim_is_404(client):
    headers = auth(make_organiser())
    assert client.get("/api/v1/claims/5150", headers=headers).status_code == 404
    assert client.post("/api/v1/claims/5150/review", json={"decision": "approve"}, headers=headers).status_code == 404


def test_organiser_approves_a_submitted_claim(client):
    organiser = make_organiser()
    claim = make_claim(make_user(), make_quest(organiser), submit=True)
    response = client.post(f"/api/v1/claims/{claim.id}/review", json={"decision": "approve"},
                           headers=auth(organiser))
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "approved" and body["decided_at"].endswith("Z")


def test_rejecting_needs_a_reason(client):
    organiser = make_organiser()
    claim = make_claim(make_user(), make_quest(organiser), submit=True)
    headers = auth(organiser)
    response = client.post(f"/api/v1/claims/{claim.id}/review", json={"decision": "reject"}, headers=headers)
    assert response.status_code == 422
    assert list(error_of(response)["fields"]) == ["reason"]
    response = client.post(f"/api/v1/claims/{claim.id}/review",
                           json={"decision": "reject", "reason": "The photo shows a different street."},
                           headers=headers)
    assert response.status_code == 200
    assert response.get_json()["status"] == "rejected"


def test_unknown_decision_is_422_naming_decision(client):
    organiser = make_organiser()
    claim = make_claim(make_user(), make_quest(organiser), submit=True)
    for bad in ("maybe", 1, None):
        response = client.post(f"/api/v1/claims/{claim.id}/review", json={"decision": bad},
                               headers=auth(organiser))
        assert response.status_code == 422, bad
        assert list(error_of(response)["fields"]) == ["decision"]


def test_reviewing_twice_is_409(client):
    organiser = make_organiser()
    claim = make_claim(make_user(), make_quest(organiser), submit=True)
    approve(organiser, claim)
    response = client.post(f"/api/v1/claims/{claim.id}/review", json={"decision": "approve"},
                           headers=auth(make_organiser()))
    assert response.status_code == 409
    assert error_of(response)["code"] == "claim_state"


def test_reviewing_a_claim_not_yet_submitted_is_409(client):
    organiser = make_organiser()
    claim = make_claim(make_user(), make_quest(organiser))
    response = client.post(f"/api/v1/claims/{claim.id}/review", json={"decision": "approve"},
                           headers=auth(organiser))
    assert response.status_code == 409


def test_organiser_reviewing_their_own_claim_is_403(client):
    organiser = make_organiser()
    claim = make_claim(organiser, make_quest(make_organiser()), submit=True)
    response = client.post(f"/api/v1/claims/{claim.id}/review", json={"decision": "approve"},
                           headers=auth(organiser))
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


def test_participant_reviewing_their_own_claim_is_403(client):
    user = make_user()
    claim = make_claim(user, make_quest(make_organiser()), submit=True)
    response = client.post(f"/api/v1/claims/{claim.id}/review", json={"decision": "approve"}, headers=auth(user))
    assert response.status_code == 403


def test_claim_routes_need_a_token(client):
    claim = make_claim(make_user(), make_quest(make_organiser()), submit=True)
    posts = {f"/api/v1/quests/{claim.quest_id}/claims": {},
             f"/api/v1/claims/{claim.id}/submit": {"evidence": "Done."},
             f"/api/v1/claims/{claim.id}/review": {"decision": "approve"}}
    for url, body in posts.items():
        assert client.post(url, json=body).status_code == 401, url
    assert client.get(f"/api/v1/claims/{claim.id}").status_code == 401
