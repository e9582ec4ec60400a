"""The caller's profile (GET/PATCH /me), badges (catalogue, a person's, the caller's, with
their Open Badges credentials) and in-app notifications through the API."""
from __future__ import annotations

from extensions import db
from notifications.services import fan_out
from tests.api import auth, error_of
from tests.childsafe.helpers import make_class
from tests.factories import approve, make_claim, make_organiser, make_quest, make_team, make_user
from tests.notifications.helpers import add_problem, add_update, follow, rows


def earn_first_fix(player):
    organiser = make_organiser()
    approve(organiser, make_claim(player, make_quest(organiser), submit=True))


# --- badges --------------------------------------------------------------------------------

def test_the_badge_catalogue_paginates_and_filters_by_category(client):
    body = client.get("/api/v1/badges?page_size=3").get_json()
    assert len(body["items"]) == 3 and body["total"] > 3 and body["next"]
    first = body["items"][0]
    assert {"code", "name", "description", "criteria", "image", "achievement"} <= set(first)
    assert client.get(first["achievement"]).status_code == 200
    litter = client.get("/api/v1/badges?category=litter").get_json()["items"]
    assert litter and all(b["category"] == "litter" for b in litter)
    response = client.get("/api/v1/badges?category=volcanoes")
    assert response.status_code == 422 and list(error_of(response)["fields"]) == ["category"]


def test_a_persons_badges_link_to_their_open_badges_credential(client):
    player = make_user()
    earn_first_fix(player)
    body = client.get(f"/api/v1/people/{player.id}/badges").get_json()
    assert body["total"] >= 1
    earned = body["items"][0]
    assert earned["awarded_at"] and earned["credential"].endswith(f"/people/{player.id}/badges/{earned['code']}.json")
    credential = client.get(earned["credential"])
    assert credential.status_code == 200 and "OpenBadgeCredential" in credential.get_data(as_text=True)
    mine = client.get("/api/v1/me/badges", headers=auth(player)).get_json()
    assert [b["code"] for b in mine["items"]] == [b["code"] for b in body["items"]]


def test_a_childs_badges_are_404_to_everyone_outside_their_class(client):
    teacher, team, [child] = make_class(None, "Pia Pupil")
    outsider = make_user()
    assert error_of(client.get(f"/api/v1/people/{child.id}/badges"))["code"] == "not_found"
    assert client.get(f"/api/v1/people/{child.id}/badges", headers=auth(outsider)).status_code == 404
    assert client.get(f"/api/v1/people/{child.id}/badges", headers=auth(teacher)).status_code == 200
    assert client.get("/api/v1/people/99999/badges").status_code == 404


def test_a_profile_a_moderator_hid_has_no_public_badges_either(client):
    player = make_user()
    earn_first_fix(player)
    player.profile_hidden = True
    db.session.commit()
    path = f"/api/v1/people/{player.id}/badges"
    assert client.get(f"/people/{player.id}").status_code == 404  # as its profile page
    assert error_of(client.get(path))["code"] == "not_found"
    assert client.get(path, headers=auth(make_user())).status_code == 404
    assert client.get(path, headers=auth(player)).get_json()["total"] >= 1
    assert client.get(path, headers=auth(make_organiser())).status_code == 200

def test_my_badges_and_me_need_a_token(client):
    for path in ("/api/v1/me", "/api/v1/me/badges", "/api/v1/me/notifications"):
        response = client.get(path)
        assert response.status_code == 401 and error_of(response)["code"] == "not_authenticated"
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and error_of(bad)["code"] == "invalid_token"


# --- /me -----------------------------------------------------------------------------------

def test_me_shows_my_own_profile_level_points_streak_and_teams(client):
    player = make_user(name="Mo Player")
    team = make_team(player, name="Mo's Team")
    earn_first_fix(player)
    response = client.get("/api/v1/me", headers=auth(player))
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    body = response.get_json()
    assert body["display_name"] == "Mo Player" and body["points"] == 50
    assert body["level"]["number"] >= 1 and 0 <= body["level"]["progress"] <= 1
    assert body["streak"]["weeks"] == 1 and body["streak"]["active_this_week"] is True
    assert body["teams"] == [{"id": team.id, "name": "Mo's Team", "captain": True, "url": f"/api/v1/teams/{team.id}"}]
    assert body["hidden_from_boards"] is False and body["badges_count"] >= 1
    assert player.email not in response.get_data(as_text=True)


def test_patching_me_renames_and_hides_me_from_the_boards(client):
    player = make_user(name="Old Name")
    headers = auth(player)
    response = client.patch("/api/v1/me", json={"display_name": "  New Name ", "hidden_from_boards": True},
                            headers=headers)
    assert response.status_code == 200
    assert (response.get_json()["display_name"], response.get_json()["hidden_from_boards"]) == ("New Name", True)
    shown = client.patch("/api/v1/me", json={"hidden_from_boards": False}, headers=headers).get_json()
    assert shown["hidden_from_boards"] is False and shown["display_name"] == "New Name"


def test_patching_me_validates_as_the_pages_do(client):
    player = make_user(name="Kept Name")
    headers = auth(player)
    for body, field in (({"display_name": "x"}, "display_name"), ({"display_name": "me@example.org"}, "display_name"),
                        ({"display_name": 7}, "display_name"), ({"hidden_from_boards": "yes"}, "hidden_from_boards")):
        response = client.patch("/api/v1/me", json=body, headers=headers)
        assert response.status_code == 422 and list(error_of(response)["fields"]) == [field], body
    assert client.patch("/api/v1/me", data="{", headers={**headers, "Content-Type": "application/json"}).status_code == 400
    assert client.patch("/api/v1/me", json={"display_name": "Anon"}).status_code == 401
    assert client.get("/api/v1/me", headers=headers).get_json()["display_name"] == "Kept Name"


def test_a_child_can_neither_rename_nor_unhide_through_the_api(client):
    became_child = make_user(name="Kid Name")
    headers = auth(became_child)  # a token made before the account became a child's
    became_child.is_child, became_child.hidden_from_boards = True, True
    db.session.commit()
    for body in ({"display_name": "Public Kid"}, {"hidden_from_boards": False}):
        response = client.patch("/api/v1/me", json=body, headers=headers)
        assert response.status_code == 403, body
    assert client.get("/api/v1/me", headers=headers).get_json()["hidden_from_boards"] is True


# --- notifications -------------------------------------------------------------------------

def notify(organiser, person, n: int, *, title="Pothole on Broad Street"):
    problem = add_problem(organiser, title=title)
    follow(person, problem, delivery="in_app")
    for i in range(n):
        entry = add_update(problem, organiser, kind="comment", body=f"Update number {i}", publish_it=False)
        fan_out(db.session, update_id=entry.id)
    db.session.commit()
    return problem


def test_my_notifications_newest_first_paginated_with_the_unread_count(client):
    organiser, ann = make_organiser(), make_user()
    notify(organiser, ann, 3, title="Dark lamp post")
    headers = auth(ann)
    first = client.get("/api/v1/me/notifications?page_size=2", headers=headers).get_json()
    assert first["total"] == 3 and first["unread_count"] == 3 and len(first["items"]) == 2
    top = first["items"][0]
    assert top["summary"] == "New update on Dark lamp post" and top["read"] is False
    assert top["update"]["body"] == "Update number 2" and top["problem"].startswith("/api/v1/problems/")
    assert len(client.get(first["next"], headers=headers).get_json()["items"]) == 1
    assert client.get("/api/v1/me/notifications", headers=auth(make_user())).get_json()["total"] == 0


def test_marking_one_then_all_as_read(client):
    organiser, ann = make_organiser(), make_user()
    notify(organiser, ann, 3)
    headers = auth(ann)
    newest = client.get("/api/v1/me/notifications", headers=headers).get_json()["items"][0]["id"]
    one = client.post(f"/api/v1/me/notifications/{newest}/read", headers=headers)
    assert one.status_code == 200 and one.get_json() == {"id": newest, "read": True, "unread_count": 2}
    unread = client.get("/api/v1/me/notifications?unread=true", headers=headers).get_json()
    assert newest not in [n["id"] for n in unread["items"]] and unread["total"] == 2
    everything = client.post("/api/v1/me/notifications/read", headers=headers)
    assert everything.get_json() == {"marked": 2, "unread_count": 0}
    assert all(n.read_at is not None for n in rows(channel="in_app"))


def test_nobody_marks_another_persons_notification(client):
    organiser, ann = make_organiser(), make_user()
    notify(organiser, ann, 1)
    [mine] = rows(channel="in_app")
    response = client.post(f"/api/v1/me/notifications/{mine.id}/read", headers=auth(make_user()))
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"
    assert client.post(f"/api/v1/me/notifications/{mine.id}/read").status_code == 401
    assert rows(channel="in_app")[0].read_at is None
    bad = client.get("/api/v1/me/notifications?unread=perhaps", headers=auth(ann))
    assert bad.status_code == 422 and list(error_of(bad)["fields"]) == ["unread"]
