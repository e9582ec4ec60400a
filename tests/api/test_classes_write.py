"""A teacher's school classes through the API: making a class and its login cards, adding
children, new cards, settings, children's names, archiving and deleting the children, with
the pages' rules: only the class's teacher sees it (everyone else gets what an unknown class
gets), a card's secret is shown once, and children log in with cards, never tokens."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from accounts.models import ApiToken, User
from accounts.services import issue_token
from childsafe.policy import ChildRefused
from classes.models import NameRequest
from extensions import db
from tests.api import auth, error_of
from tests.factories import make_organiser, make_user
from tests.test_classes import as_user, child_login

CLASSES = "/api/v1/classes"


def read_auth(user) -> dict[str, str]:
    token = issue_token(db.session, user=user, name="reader", scope="read")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def new_class(client, teacher, *, name="Year 5 Oak", size=3, kind="password") -> dict:
    response = client.post(CLASSES, json={"name": name, "size": size, "secret_kind": kind}, headers=auth(teacher))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def as_login_card(card: dict) -> dict:
    """An API card as tests.test_classes.child_login reads a printed one."""
    return {"code": card["class_code"], "name": card["card_name"], "password": card["password"],
            "pictures": [p["code"] for p in card["pictures"] or []]}


def logs_in(app, card: dict) -> bool:
    return child_login(app, as_login_card(card))[1].status_code == 302


def child_ids(class_id: int) -> list[int]:
    from classes.models import ClassChild
    return list(db.session.scalars(select(ClassChild.user_id).where(ClassChild.class_id == class_id)))


# --- making a class ------------------------------------------------------------------------

def test_a_teacher_makes_a_class_and_its_cards_log_children_in(app, client):
    teacher = make_organiser(name="Ms Rivers")
    response = client.post(CLASSES, json={"name": "Year 5 Oak", "size": 3, "secret_kind": "password"},
                           headers=auth(teacher))
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["class"]["name"] == "Year 5 Oak" and body["class"]["children_count"] == 3
    assert len(body["cards"]) == 3 and all(card["password"] and card["pictures"] is None for card in body["cards"])
    assert logs_in(app, body["cards"][0])
    dashboard = client.get(response.headers["Location"], headers=auth(teacher))
    assert dashboard.status_code == 200 and "no-store" in dashboard.headers["Cache-Control"]
    assert sorted(c["card_name"] for c in dashboard.get_json()["children"]) == sorted(
        c["card_name"] for c in body["cards"])
    assert body["cards"][0]["password"] not in dashboard.get_data(as_text=True)  # shown once, never again
    listed = client.get(CLASSES, headers=read_auth(teacher)).get_json()["items"]
    assert [c["name"] for c in listed] == ["Year 5 Oak"]


def test_picture_pin_cards_carry_four_pictures(app, client):
    body = new_class(client, make_organiser(), kind="pictures", size=1)
    card = body["cards"][0]
    assert card["password"] is None and len(card["pictures"]) == 4
    assert logs_in(app, card)


def test_making_a_class_refusals(client):
    teacher = make_organiser()
    headers = auth(teacher)
    new_class(client, teacher, name="Taken Class")
    for body, field in (({"name": "Year 6", "size": 0, "secret_kind": "password"}, "size"),
                        ({"name": "Year 6", "size": 61, "secret_kind": "password"}, "size"),
                        ({"name": "Year 6", "size": 3, "secret_kind": "runes"}, "secret_kind"),
                        ({"name": "Year 6", "size": "3", "secret_kind": "password"}, "size"),
                        ({"size": 3, "secret_kind": "password"}, "name")):
        response = client.post(CLASSES, json=body, headers=headers)
        assert response.status_code == 422 and list(error_of(response)["fields"]) == [field], body
    taken = client.post(CLASSES, json={"name": "Taken Class", "size": 2, "secret_kind": "password"},
                        headers=headers)
    assert taken.status_code == 409
    good = {"name": "Year 6", "size": 2, "secret_kind": "password"}
    assert error_of(client.post(CLASSES, json=good))["code"] == "not_authenticated"
    assert error_of(client.post(CLASSES, json=good, headers=read_auth(teacher)))["code"] == "insufficient_scope"
    participant = client.post(CLASSES, json=good, headers=auth(make_user()))
    assert participant.status_code == 403 and error_of(participant)["code"] == "forbidden"
    assert client.get(CLASSES, headers=auth(make_user())).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(User).where(User.is_child.is_(True))) == 3


# --- nobody but the teacher ----------------------------------------------------------------

def test_to_anyone_but_its_teacher_a_class_does_not_exist(client):
    teacher = make_organiser()
    body = new_class(client, teacher)
    class_id, child = body["class"]["id"], body["cards"][0]
    rivals = (auth(make_organiser(name="Rival Teacher")), auth(make_user()),
              auth(make_user(role="admin")))
    writes = (("children", {"count": 1}), ("reset", {}), (f"children/{child['child_id']}/reset", {}),
              ("settings", {"streaks_enabled": True}), ("names/1/approve", {}), ("archive", {"confirm": True}),
              ("delete-children", {"confirm": True}))
    for headers in rivals:
        response = client.get(f"{CLASSES}/{class_id}", headers=headers)
        assert response.status_code == 404 and child["card_name"] not in response.get_data(as_text=True)
        for path, payload in writes:
            refused = client.post(f"{CLASSES}/{class_id}/{path}", json=payload, headers=headers)
            assert refused.status_code == 404 and child["card_name"] not in refused.get_data(as_text=True), path
    assert client.get(f"{CLASSES}/{class_id}", headers=auth(teacher)).get_json()["archived"] is False
    assert client.get(f"{CLASSES}/99999", headers=auth(teacher)).status_code == 404
    assert client.get(f"{CLASSES}/{class_id}").status_code == 401
    for path, payload in writes:
        assert client.post(f"{CLASSES}/{class_id}/{path}", json=payload,
                           headers=read_auth(teacher)).status_code == 403, path


# --- cards ---------------------------------------------------------------------------------

def test_adding_children_gives_their_cards_within_the_class_limit(app, client):
    teacher = make_organiser()
    class_id = new_class(client, teacher, size=58)["class"]["id"]
    added = client.post(f"{CLASSES}/{class_id}/children", json={"count": 2}, headers=auth(teacher))
    assert added.status_code == 201 and added.headers["Cache-Control"] == "no-store"
    assert len(added.get_json()["cards"]) == 2 and logs_in(app, added.get_json()["cards"][1])
    full = client.post(f"{CLASSES}/{class_id}/children", json={"count": 1}, headers=auth(teacher))
    assert full.status_code == 422 and list(error_of(full)["fields"]) == ["count"]
    for body in ({}, {"count": "two"}):
        response = client.post(f"{CLASSES}/{class_id}/children", json=body, headers=auth(teacher))
        assert response.status_code == 422 and list(error_of(response)["fields"]) == ["count"]
    assert len(child_ids(class_id)) == 60


def test_a_class_team_in_an_unfinished_event_grows_only_to_the_events_team_size(client):
    from accounts.models import Team
    from tests.events_helpers import enter, make_event

    teacher = make_organiser()
    made = new_class(client, teacher, size=3)["class"]
    event = make_event(make_organiser(), max_team_size=4)
    enter(event, db.session.get(Team, made["team_id"]), teacher)
    too_many = client.post(f"{CLASSES}/{made['id']}/children", json={"count": 2}, headers=auth(teacher))
    assert too_many.status_code == 409 and error_of(too_many)["code"] == "team_full"
    assert len(child_ids(made["id"])) == 3  # nobody made
    one_more = client.post(f"{CLASSES}/{made['id']}/children", json={"count": 1}, headers=auth(teacher))
    assert one_more.status_code == 201 and len(child_ids(made["id"])) == 4


def test_new_cards_stop_the_old_ones(app, client):
    teacher = make_organiser()
    body = new_class(client, teacher, size=2)
    class_id, (first, second) = body["class"]["id"], body["cards"]
    one = client.post(f"{CLASSES}/{class_id}/children/{first['child_id']}/reset", headers=auth(teacher))
    assert one.status_code == 200 and [c["child_id"] for c in one.get_json()["cards"]] == [first["child_id"]]
    assert not logs_in(app, first) and logs_in(app, one.get_json()["cards"][0]) and logs_in(app, second)
    everyone = client.post(f"{CLASSES}/{class_id}/reset", headers=auth(teacher)).get_json()["cards"]
    assert len(everyone) == 2 and not logs_in(app, second)
    some = client.post(f"{CLASSES}/{class_id}/reset", json={"child_ids": [second["child_id"]]}, headers=auth(teacher))
    assert [c["child_id"] for c in some.get_json()["cards"]] == [second["child_id"]]
    stranger = make_user()
    assert client.post(f"{CLASSES}/{class_id}/children/{stranger.id}/reset", headers=auth(teacher)).status_code == 404
    assert client.post(f"{CLASSES}/{class_id}/reset", json={"child_ids": [stranger.id]},
                       headers=auth(teacher)).status_code == 404
    bad = client.post(f"{CLASSES}/{class_id}/reset", json={"child_ids": "all"}, headers=auth(teacher))
    assert bad.status_code == 422 and list(error_of(bad)["fields"]) == ["child_ids"]


# --- settings and names --------------------------------------------------------------------

def test_settings_change_what_is_sent_and_keep_the_rest(client):
    teacher = make_organiser()
    class_id = new_class(client, teacher)["class"]["id"]
    url = f"{CLASSES}/{class_id}/settings"
    body = client.post(url, json={"streaks_enabled": True}, headers=auth(teacher)).get_json()
    assert body["streaks_enabled"] is True and body["show_in_rankings"] is False
    body = client.post(url, json={"show_in_rankings": True}, headers=auth(teacher)).get_json()
    assert body["streaks_enabled"] is True and body["show_in_rankings"] is True
    bad = client.post(url, json={"streaks_enabled": "yes"}, headers=auth(teacher))
    assert bad.status_code == 422 and list(error_of(bad)["fields"]) == ["streaks_enabled"]


def test_the_teacher_approves_or_refuses_a_childs_own_name(app, client):
    teacher = make_organiser()
    body = new_class(client, teacher, size=2)
    class_id = body["class"]["id"]
    first, second = (db.session.get(User, card["child_id"]) for card in body["cards"])
    as_user(app, first).post("/classes/my-name", data={"name": "Sam Smith"})
    as_user(app, second).post("/classes/my-name", data={"name": "Rude Name"})
    waiting = client.get(f"{CLASSES}/{class_id}", headers=auth(teacher)).get_json()["name_requests"]
    assert sorted(r["requested_name"] for r in waiting) == ["Rude Name", "Sam Smith"]
    by_name = {r["requested_name"]: r["id"] for r in waiting}
    approved = client.post(f"{CLASSES}/{class_id}/names/{by_name['Sam Smith']}/approve", headers=auth(teacher))
    assert approved.status_code == 200 and approved.get_json()["status"] == "approved"
    refused = client.post(f"{CLASSES}/{class_id}/names/{by_name['Rude Name']}/refuse", headers=auth(teacher))
    assert refused.get_json()["status"] == "refused"
    db.session.expire_all()
    assert db.session.get(User, first.id).display_name == "Sam Smith"
    assert db.session.get(User, second.id).display_name == body["cards"][1]["card_name"]
    again = client.post(f"{CLASSES}/{class_id}/names/{by_name['Sam Smith']}/refuse", headers=auth(teacher))
    assert again.status_code == 409
    assert client.post(f"{CLASSES}/{class_id}/names/99999/approve", headers=auth(teacher)).status_code == 404
    assert client.post(f"{CLASSES}/{class_id}/names/{by_name['Sam Smith']}/maybe",
                       headers=auth(teacher)).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(NameRequest)
                             .where(NameRequest.status == "pending")) == 0


# --- the end of the year -------------------------------------------------------------------

def test_archiving_then_deleting_the_children(app, client):
    teacher = make_organiser()
    body = new_class(client, teacher, size=2)
    class_id, card = body["class"]["id"], body["cards"][0]
    headers = auth(teacher)
    early = client.post(f"{CLASSES}/{class_id}/delete-children", json={"confirm": True}, headers=headers)
    assert early.status_code == 409
    for payload in (None, {}, {"confirm": False}, {"confirm": "yes"}):
        response = client.post(f"{CLASSES}/{class_id}/archive", json=payload, headers=headers)
        assert response.status_code == 422 and list(error_of(response)["fields"]) == ["confirm"], payload
    archived = client.post(f"{CLASSES}/{class_id}/archive", json={"confirm": True}, headers=headers)
    assert archived.status_code == 200 and archived.get_json()["archived"] is True
    assert not logs_in(app, card)
    for path, payload in (("archive", {"confirm": True}), ("children", {"count": 1}), ("reset", {}),
                          ("settings", {"streaks_enabled": True})):
        refused = client.post(f"{CLASSES}/{class_id}/{path}", json=payload, headers=headers)
        assert refused.status_code == 409 and error_of(refused)["code"] == "class_archived", path
    unconfirmed = client.post(f"{CLASSES}/{class_id}/delete-children", json={}, headers=headers)
    assert unconfirmed.status_code == 422
    deleted = client.post(f"{CLASSES}/{class_id}/delete-children", json={"confirm": True}, headers=headers)
    assert deleted.status_code == 200 and deleted.get_json() == {"class_id": class_id, "children_deleted": 2}
    assert db.session.get(User, card["child_id"]) is None
    dashboard = client.get(f"{CLASSES}/{class_id}", headers=headers).get_json()
    assert dashboard["children"] == [] and dashboard["children_deleted_at"] is not None


# --- children and tokens -------------------------------------------------------------------

def test_children_log_in_with_cards_and_never_hold_a_token(app, client):
    body = new_class(client, make_organiser(), size=1)
    child = db.session.get(User, body["cards"][0]["child_id"])
    assert child.email is None  # POST /api/v1/tokens asks for an email: a child has none
    with pytest.raises(ChildRefused):
        issue_token(db.session, user=child, name="mine")
    db.session.rollback()
    page = as_user(app, child).post("/account/tokens", data={"name": "mine", "scope": "read"})
    assert "You may not get an API token: children&#39;s accounts" in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ApiToken).where(ApiToken.user_id == child.id)) == 0
