"""The whole quest loop through the API alone, from token to leaderboard."""
from __future__ import annotations

from datetime import timedelta

from tests.factories import PASSWORD, make_organiser, make_team, make_user
from timeutil import isoformat, utcnow


def test_team_quest_loop_puts_points_on_both_boards_and_never_shows_an_email(client):
    organiser = make_organiser(name="Ola Organiser")
    captain, member = make_user(name="Cat Captain"), make_user(name="Mo Member")
    team = make_team(captain, name="Broad Street Crew", members=(member,))
    emails = [organiser.email, captain.email, member.email]
    bodies: list[str] = []

    def call(method, url, token=None, **kw):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = getattr(client, method)(url, headers=headers, **kw)
        bodies.append(response.get_data(as_text=True))
        return response

    def token_for(user):
        response = call("post", "/api/v1/tokens", json={"email": user.email, "password": PASSWORD})
        assert response.status_code == 201
        return response.get_json()["token"]

    organiser_token, captain_token, member_token = map(token_for, (organiser, captain, member))

    problem = call("post", "/api/v1/problems", member_token, json={
        "title": "Litter at the bus stop", "description": "Bags of it, every morning.",
        "category": "litter", "lat": 51.45, "lon": -2.59}).get_json()
    call("get", "/api/v1/problems")
    call("get", f"/api/v1/problems/{problem['id']}")

    quest = call("post", "/api/v1/quests", organiser_token, json={
        "title": "Clear the bus stop", "brief": "People wait here every morning.", "points": 40,
        "difficulty": "easy", "mode": "team", "evidence_wanted": "What you cleared.",
        "ends_at": isoformat(utcnow() + timedelta(days=2)), "problem_id": problem["id"]}).get_json()
    assert [q["id"] for q in call("get", "/api/v1/quests").get_json()["items"]] == [quest["id"]]

    claim = call("post", f"/api/v1/quests/{quest['id']}/claims", captain_token, json={"team_id": team.id})
    assert claim.status_code == 201
    claim_id = claim.get_json()["id"]
    submitted = call("post", f"/api/v1/claims/{claim_id}/submit", member_token,
                     json={"evidence": "Four bags cleared; photo in the team chat."})
    assert submitted.get_json()["status"] == "submitted"
    reviewed = call("post", f"/api/v1/claims/{claim_id}/review", organiser_token, json={"decision": "approve"})
    assert reviewed.status_code == 200 and reviewed.get_json()["status"] == "approved"

    participants = call("get", "/api/v1/leaderboards/participants").get_json()["entries"]
    teams = call("get", "/api/v1/leaderboards/teams").get_json()["entries"]
    # both members who took part (the claimant and the submitter) are credited; the reviewer earns a point
    assert participants == [{"rank": 1, "name": "Cat Captain", "points": 40},
                            {"rank": 2, "name": "Mo Member", "points": 40},
                            {"rank": 3, "name": "Ola Organiser", "points": 1}]
    assert teams == [{"rank": 1, "name": "Broad Street Crew", "points": 40}]

    call("get", f"/api/v1/claims/{claim_id}", organiser_token)
    call("post", f"/api/v1/claims/{claim_id}/review", organiser_token, json={"decision": "approve"})
    call("post", "/api/v1/tokens", json={"email": captain.email, "password": "wrong password"})
    for body in bodies:
        assert not any(email in body for email in emails), body
        assert "@" not in body, body
