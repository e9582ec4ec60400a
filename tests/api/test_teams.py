"""Teams through the API: listing, starting, members (hidden people stay hidden), leaving,
join requests and the captain's actions, with their refusals."""
from __future__ import annotations

from accounts.models import Team
from extensions import db
from tests.api import auth, error_of
from tests.childsafe.helpers import make_class, make_school_class
from tests.factories import make_organiser, make_team, make_user


def fresh(team) -> Team:
    db.session.expire_all()
    return db.session.get(Team, team.id)


def test_the_team_list_filters_by_name_paginates_and_hides_closed_teams(client):
    for name in ("Ash Wardens", "Beech Street Crew", "Ashton Court Pickers"):
        make_team(make_user(), name=name)
    lonely = make_user()
    closed = make_team(lonely, name="Ashes")
    client.post(f"/api/v1/teams/{closed.id}/leave", headers=auth(lonely))
    body = client.get("/api/v1/teams?name=ash&page_size=1").get_json()
    assert [t["name"] for t in body["items"]] == ["Ash Wardens"] and body["total"] == 2
    assert body["items"][0]["members_count"] == 1 and body["items"][0]["closed"] is False
    assert body["items"][0]["url"].endswith(f"/api/v1/teams/{body['items'][0]['id']}")
    second = client.get(body["next"]).get_json()
    assert [t["name"] for t in second["items"]] == ["Ashton Court Pickers"] and second["next"] is None
    everything = client.get("/api/v1/teams?name=ash&include_closed=true").get_json()
    assert "Ashes" in [t["name"] for t in everything["items"]]
    assert "join_code" not in client.get("/api/v1/teams").get_data(as_text=True)


def test_bad_team_list_filters_are_422(client):
    response = client.get("/api/v1/teams?include_closed=maybe&page=0")
    assert response.status_code == 422 and set(error_of(response)["fields"]) == {"include_closed", "page"}


def test_creating_a_team_makes_the_caller_captain_and_shows_them_the_code(client):
    captain = make_user(name="Cora Captain")
    response = client.post("/api/v1/teams", json={"name": "Harbourside Helpers"}, headers=auth(captain))
    assert response.status_code == 201
    body = response.get_json()
    assert body["captain"] == "Cora Captain" and body["members_count"] == 1 and len(body["join_code"]) == 8
    assert client.get(response.headers["Location"]).get_json()["name"] == "Harbourside Helpers"


def test_creating_a_team_refusals(client):
    headers = auth(make_user())
    make_team(make_user(), name="Taken Name")
    assert client.post("/api/v1/teams", json={"name": "Taken Name"}, headers=headers).status_code == 409
    short = client.post("/api/v1/teams", json={"name": "x"}, headers=headers)
    assert short.status_code == 422 and list(error_of(short)["fields"]) == ["name"]
    assert client.post("/api/v1/teams", json={}, headers=headers).status_code == 422
    assert client.post("/api/v1/teams", json={"name": "No Token"}).status_code == 401
    assert client.post("/api/v1/teams", data="name=x", headers=headers).status_code == 415  # not JSON
    became_child = make_user()
    child_headers = auth(became_child)  # a token made before the account became a child's
    became_child.is_child = True
    db.session.commit()
    child = client.post("/api/v1/teams", json={"name": "Kids Only"}, headers=child_headers)
    assert child.status_code == 403 and error_of(child)["code"] == "child_account"


def test_members_are_listed_as_on_the_page_children_and_hidden_people_only_counted(client):
    teacher, team, children = make_class(None, "Pip Hiddenchild", team_name="Class 5")
    adult, hidden = make_user(name="Ada Adult"), make_user(name="Hugo Hidden")
    hidden.hidden_from_boards = True
    db.session.commit()
    from accounts.services import join_team
    for person in (adult, hidden):
        join_team(db.session, actor=person, code=team.join_code)
    db.session.commit()
    public = client.get(f"/api/v1/teams/{team.id}/members")
    body = public.get_json()
    assert [m["name"] for m in body["items"]] == ["Ada Adult", "Ms Teacher"]
    assert body["unlisted"] == 2 and body["total"] == 2
    assert "Hiddenchild" not in public.get_data(as_text=True) and "Hugo" not in public.get_data(as_text=True)
    as_member = client.get(f"/api/v1/teams/{team.id}/members", headers=auth(adult)).get_json()
    assert as_member["unlisted"] == 0 and len(as_member["items"]) == 4
    assert client.get("/api/v1/teams/999/members").status_code == 404


def test_leaving_a_team_and_its_refusals(client):
    captain, member = make_user(), make_user()
    team = make_team(captain, members=(member,))
    url = f"/api/v1/teams/{team.id}/leave"
    response = client.post(url, headers=auth(member))
    assert response.status_code == 200 and response.get_json() == {"team_id": team.id, "member": False,
                                                                   "closed": False}
    assert client.post(url, headers=auth(member)).status_code == 403  # not a member any more
    assert client.post(url).status_code == 401
    last = client.post(url, headers=auth(captain)).get_json()
    assert last["closed"] is True


def test_a_captain_with_members_must_hand_over_before_leaving(client):
    captain, member = make_user(), make_user()
    team = make_team(captain, members=(member,))
    response = client.post(f"/api/v1/teams/{team.id}/leave", headers=auth(captain))
    assert response.status_code == 409


def test_the_captain_regenerates_the_code_and_the_old_one_stops_working(client):
    captain = make_user()
    team = make_team(captain)
    old = team.join_code
    response = client.post(f"/api/v1/teams/{team.id}/code", json={"expires_in_days": 7}, headers=auth(captain))
    assert response.status_code == 200
    body = response.get_json()
    assert body["join_code"] != old and body["expires_at"] is not None
    joined = client.post("/api/v1/teams/join", json={"code": old}, headers=auth(make_user()))
    assert joined.status_code == 422 or joined.status_code == 404
    assert client.post(f"/api/v1/teams/{team.id}/code", headers=auth(captain)).get_json()["expires_at"] is None


def test_only_the_captain_may_use_the_captains_actions(client):
    captain, member = make_user(), make_user()
    team = make_team(captain, members=(member,))
    headers = auth(member)
    for path, body in ((f"code", {}), ("size", {"max_size": 3}), (f"members/{captain.id}/remove", {}),
                       ("captain", {"new_captain_id": member.id})):
        response = client.post(f"/api/v1/teams/{team.id}/{path}", json=body, headers=headers)
        assert response.status_code == 403, path
    assert client.get(f"/api/v1/teams/{team.id}/requests", headers=headers).status_code == 403
    assert fresh(team).captain_id == captain.id


def test_the_captain_sets_the_size_and_bad_sizes_are_422(client):
    captain, member = make_user(), make_user()
    team = make_team(captain, members=(member,))
    headers = auth(captain)
    url = f"/api/v1/teams/{team.id}/size"
    assert client.post(url, json={"max_size": 3}, headers=headers).get_json()["max_members"] == 3
    for size in (1, 500, "3"):
        response = client.post(url, json={"max_size": size}, headers=headers)
        assert response.status_code == 422 and list(error_of(response)["fields"]) == ["max_size"]
    assert client.post(url, json={"max_size": None}, headers=headers).get_json()["max_members"] == 12


def test_the_captain_removes_a_member_but_not_themselves(client):
    captain, member = make_user(name="Cap"), make_user(name="Mem")
    team = make_team(captain, members=(member,))
    headers = auth(captain)
    response = client.post(f"/api/v1/teams/{team.id}/members/{member.id}/remove", headers=headers)
    assert response.status_code == 200 and response.get_json()["members_count"] == 1
    again = client.post(f"/api/v1/teams/{team.id}/members/{member.id}/remove", headers=headers)
    assert again.status_code == 404
    assert client.post(f"/api/v1/teams/{team.id}/members/{captain.id}/remove", headers=headers).status_code == 409


def test_handing_over_the_captaincy(client):
    captain, member, outsider = make_user(), make_user(name="Next Captain"), make_user()
    team = make_team(captain, members=(member,))
    headers = auth(captain)
    url = f"/api/v1/teams/{team.id}/captain"
    for body in ({"new_captain_id": outsider.id}, {}, {"new_captain_id": "two"}):
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 422 and list(error_of(response)["fields"]) == ["new_captain_id"]
    response = client.post(url, json={"new_captain_id": member.id}, headers=headers)
    assert response.status_code == 200 and response.get_json()["captain"] == "Next Captain"


def test_join_requests_from_asking_to_the_captains_decision(client):
    captain, asker, other = make_user(), make_user(name="Asha Asker"), make_user()
    team = make_team(captain)
    asked = client.post(f"/api/v1/teams/{team.id}/requests", headers=auth(asker))
    assert asked.status_code == 201 and asked.get_json()["status"] == "pending"
    assert client.post(f"/api/v1/teams/{team.id}/requests", headers=auth(asker)).status_code == 409
    client.post(f"/api/v1/teams/{team.id}/requests", headers=auth(other))
    listing = client.get(f"/api/v1/teams/{team.id}/requests", headers=auth(captain)).get_json()
    assert [r["user"]["name"] for r in listing["items"]] == ["Asha Asker", other.display_name]
    request_id = asked.get_json()["id"]
    headers = auth(captain)
    approved = client.post(f"/api/v1/teams/{team.id}/requests/{request_id}/approve", headers=headers)
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"
    assert client.post(f"/api/v1/teams/{team.id}/requests/{request_id}/decline", headers=headers).status_code == 409
    assert client.post(f"/api/v1/teams/{team.id}/requests/99999/approve", headers=headers).status_code == 404
    assert client.post(f"/api/v1/teams/{team.id}/requests/{request_id}/maybe", headers=headers).status_code == 404
    assert client.get(f"/api/v1/teams/{team.id}/members", headers=auth(asker)).get_json()["total"] == 2
    assert client.post(f"/api/v1/teams/{team.id}/requests", headers=auth(asker)).status_code == 409  # in it now
    assert client.post("/api/v1/teams/999/requests", headers=auth(other)).status_code == 404


def test_a_private_class_team_is_a_404_and_unlisted_but_its_class_reads_it(client):
    teacher, team, _ = make_school_class(None, "Pip Hiddenchild", team_name="Oak Class")
    reads = (f"/api/v1/teams/{team.id}", f"/api/v1/teams/{team.id}/members")
    for headers in ({}, auth(make_user()), auth(make_organiser())):
        for path in reads:
            response = client.get(path, headers=headers)
            assert response.status_code == 404 and error_of(response)["code"] == "not_found"
            assert "Oak" not in response.get_data(as_text=True)
        for query in ("", "?name=oak", "?include_closed=true"):
            assert "Oak" not in client.get("/api/v1/teams" + query, headers=headers).get_data(as_text=True)
        within = [client.get(f"/api/v1/leaderboards/participants?window=all&team_id={t}", headers=headers)
                  for t in (team.id, team.id + 1000)]  # a board within it answers as for no team
        assert [r.status_code for r in within] == [422, 422]
        assert error_of(within[0])["fields"] == {"team_id": [f"No team with id {team.id}."]}
    for insider in (teacher, make_user(role="admin")):
        headers = auth(insider)
        assert client.get(reads[0], headers=headers).get_json()["name"] == "Oak Class"
        assert client.get(reads[1], headers=headers).status_code == 200
        assert client.get(f"/api/v1/leaderboards/participants?window=all&team_id={team.id}",
                          headers=headers).status_code == 200
    # (Children hold no tokens: they read their class team on its page, tests/test_classes.py.)


def test_a_class_shown_in_public_is_listed_in_the_api_with_its_children_unlisted(client):
    _, team, _ = make_school_class(None, "Pip Hiddenchild", team_name="Oak Class", public=True)
    listing = client.get("/api/v1/teams?name=oak").get_json()
    assert [t["id"] for t in listing["items"]] == [team.id]
    body = client.get(f"/api/v1/teams/{team.id}").get_json()
    assert body["name"] == "Oak Class" and "Hiddenchild" not in str(body)
    assert "Hiddenchild" not in client.get(f"/api/v1/teams/{team.id}/members").get_data(as_text=True)
