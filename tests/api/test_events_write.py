"""Organising events through the API: creating, changing (the freeze too), choosing quests
and adding co-organisers, with the same rules and refusals as the event pages."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts.services import issue_token
from events.models import Event, EventOrganiser, EventQuest
from extensions import db
from tests.api import auth, error_of
from tests.events_helpers import add_quests, enter, make_event, set_times, team_of
from tests.factories import make_organiser, make_quest, make_user
from timeutil import utcnow


def read_token(user) -> dict[str, str]:
    token = issue_token(db.session, user=user, name="reader", scope="read")
    db.session.commit()
    return {"Authorization": f"Bearer {token}"}


def event_body(**overrides) -> dict:
    body = {"title": "Southville Jam", "description": "An afternoon of fixes.", "place": "Southville Centre",
            "starts_at": "2099-06-01T12:00:00Z", "ends_at": "2099-06-01T16:00:00Z",
            "registration_opens_at": "2099-05-01T08:00:00Z", "registration_closes_at": "2099-06-01T11:00:00Z",
            "mode": "team", "min_team_size": 2, "max_team_size": 4}
    body.update(overrides)
    return body


def events_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Event))


def fresh(event: Event) -> Event:
    db.session.expire_all()
    return db.session.get(Event, event.id)


# --- creating ---------------------------------------------------------------------------------

def test_an_organiser_creates_an_event_and_reads_it_back(client):
    organiser = make_organiser()
    response = client.post("/api/v1/events", json=event_body(freeze_at="2099-06-01T15:30:00+00:00",
                                                             hide_quests_until_start=True),
                           headers=auth(organiser))
    assert response.status_code == 201
    body = response.get_json()
    assert (body["title"], body["phase"], body["mode"], body["min_team_size"]) == ("Southville Jam", "upcoming",
                                                                                  "team", 2)
    assert body["freeze_at"] == "2099-06-01T15:30:00Z" and body["hide_quests_until_start"] is True
    assert body["quests"] == [] and body["entries_count"] == 0  # its organiser sees the (empty) secret list
    read_back = client.get(response.headers["Location"]).get_json()
    assert read_back["id"] == body["id"] and read_back["quests"] is None  # secret to the public until the start


def test_a_solo_event_needs_no_team_sizes(client):
    response = client.post("/api/v1/events", json=event_body(mode="solo", min_team_size=None, max_team_size=None),
                           headers=auth(make_organiser()))
    assert response.status_code == 201
    assert (response.get_json()["min_team_size"], response.get_json()["max_team_size"]) == (1, 1)


def test_creating_an_event_refusals(client):
    organiser = make_organiser()
    assert client.post("/api/v1/events", json=event_body()).status_code == 401
    read_only = client.post("/api/v1/events", json=event_body(), headers=read_token(organiser))
    assert read_only.status_code == 403 and error_of(read_only)["code"] == "insufficient_scope"
    participant = client.post("/api/v1/events", json={"title": 5}, headers=auth(make_user()))
    assert participant.status_code == 403 and error_of(participant)["code"] == "forbidden"
    wrong_type = client.post("/api/v1/events", json=event_body(starts_at="tomorrow", min_team_size="2"),
                             headers=auth(organiser))
    assert wrong_type.status_code == 422
    assert set(error_of(wrong_type)["fields"]) == {"starts_at", "min_team_size"}
    assert events_count() == 0


def test_every_broken_rule_is_named_at_once(client):
    response = client.post("/api/v1/events", json=event_body(
        title="  ", place=None, ends_at="2099-06-01T11:00:00Z", freeze_at="2099-06-01T17:00:00Z",
        min_team_size=5, max_team_size=3, mode="pairs"), headers=auth(make_organiser()))
    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert set(fields) == {"title", "place", "ends_at", "freeze_at", "mode"}
    assert fields["ends_at"] == ["The event must end after it starts."]


@pytest.mark.parametrize("api_change, form_change, field", [
    ({"ends_at": "2099-06-01T11:00:00Z"}, {"ends_at": "2099-06-01T12:00"}, "ends_at"),
    ({"freeze_at": "2099-06-01T17:00:00Z"}, {"freeze_at": "2099-06-01T18:00"}, "freeze_at"),
    ({"registration_closes_at": "2099-06-02T12:00:00Z"}, {"registration_closes_at": "2099-06-02T13:00"},
     "registration_closes_at"),
    ({"min_team_size": 5, "max_team_size": 3}, {"min_team_size": "5", "max_team_size": "3"}, "max_team_size"),
    ({"max_team_size": 51}, {"max_team_size": "51"}, "max_team_size"),
])
def test_the_api_and_the_page_refuse_the_same_event_with_the_same_message(client, login, api_change, form_change,
                                                                          field):
    organiser = make_organiser()
    api = client.post("/api/v1/events", json=event_body(**api_change), headers=auth(organiser))
    assert api.status_code == 422
    [message] = error_of(api)["fields"][field]
    login(organiser)
    form = {"title": "Southville Jam", "description": "An afternoon of fixes.", "place": "Southville Centre",
            "lat": "", "lon": "", "starts_at": "2099-06-01T13:00", "ends_at": "2099-06-01T17:00",  # London time
            "registration_opens_at": "2099-05-01T09:00", "registration_closes_at": "2099-06-01T12:00",
            "mode": "team", "min_team_size": "2", "max_team_size": "4", "freeze_at": "", **form_change}
    page = client.post("/events/new", data=form)
    assert page.status_code == 422 and message in page.get_data(as_text=True)
    assert events_count() == 0


# --- changing ---------------------------------------------------------------------------------

def test_organisers_change_only_the_fields_they_send_and_set_and_lift_a_freeze(client):
    organiser = make_organiser()
    event = make_event(organiser, lat=51.45, lon=-2.59)
    url, headers = f"/api/v1/events/{event.id}", auth(organiser)
    renamed = client.patch(url, json={"title": "Easton Spring Jam"}, headers=headers)
    assert renamed.status_code == 200
    assert renamed.get_json()["title"] == "Easton Spring Jam" and renamed.get_json()["place"] == event.place
    assert renamed.get_json()["lat"] == 51.45
    freeze = (utcnow() + timedelta(minutes=30)).replace(microsecond=0)
    frozen = client.patch(url, json={"freeze_at": freeze.isoformat()}, headers=headers).get_json()
    assert frozen["freeze_at"] == freeze.isoformat().replace("+00:00", "Z")
    lifted = client.patch(url, json={"freeze_at": None, "lat": None, "lon": None}, headers=headers).get_json()
    assert lifted["freeze_at"] is None and lifted["lat"] is None
    assert fresh(event).title == "Easton Spring Jam" and fresh(event).freeze_at is None


def test_changing_an_event_keeps_the_edit_pages_rules(client):
    organiser = make_organiser()
    event = make_event(organiser)
    url, headers = f"/api/v1/events/{event.id}", auth(organiser)
    outside = client.patch(url, json={"freeze_at": (utcnow() + timedelta(days=1)).isoformat()}, headers=headers)
    assert outside.status_code == 422 and list(error_of(outside)["fields"]) == ["freeze_at"]
    team, captain = team_of(1, "Ants")
    enter(event, team, captain)
    mode = client.patch(url, json={"mode": "solo"}, headers=headers)
    assert mode.status_code == 422 and list(error_of(mode)["fields"]) == ["mode"]
    dynamic = client.patch(url, json={"dynamic_scoring": True}, headers=headers)  # it has started
    assert dynamic.status_code == 422 and list(error_of(dynamic)["fields"]) == ["dynamic_scoring"]
    assert client.patch(url, json={"title": None}, headers=headers).status_code == 422
    assert fresh(event).mode == "team" and fresh(event).title == "Easton Jam"


def test_only_the_events_organisers_change_it(client):
    organiser, co_organiser, rival = make_organiser(), make_organiser(), make_organiser()
    event = make_event(organiser)
    url = f"/api/v1/events/{event.id}"
    assert client.patch(url, json={"title": "Ours"}).status_code == 401
    assert client.patch(url, json={"title": "Ours"}, headers=read_token(organiser)).status_code == 403
    for outsider in (rival, make_user()):
        refused = client.patch(url, json={"title": "Mine now"}, headers=auth(outsider))
        assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
    client.post(f"{url}/organisers", json={"user_id": co_organiser.id}, headers=auth(organiser))
    assert client.patch(url, json={"title": "Ours"}, headers=auth(co_organiser)).status_code == 200
    admin = make_user(role="admin")
    assert client.patch(url, json={"place": "The park"}, headers=auth(admin)).status_code == 200
    assert (fresh(event).title, fresh(event).place) == ("Ours", "The park")
    assert client.patch("/api/v1/events/999", json={"title": "x"}, headers=auth(organiser)).status_code == 404


# --- quests in play ---------------------------------------------------------------------------

def upcoming_event(organiser, **more):
    now = utcnow()
    return make_event(organiser, starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=1, hours=3),
                      registration_closes_at=now + timedelta(days=1), **more)


def test_organisers_put_quests_in_play_and_take_them_out_before_the_start(client):
    organiser = make_organiser()
    event = upcoming_event(organiser, dynamic_scoring=True)
    quest = make_quest(organiser, mode="team", points=100)
    headers = auth(organiser)
    added = client.post(f"/api/v1/events/{event.id}/quests", json={"quest_id": quest.id}, headers=headers)
    assert added.status_code == 201 and added.headers["Location"].endswith(f"/api/v1/events/{event.id}")
    body = added.get_json()
    assert body["event_id"] == event.id and body["quest"]["id"] == quest.id
    assert body["quest"]["dynamic_min_points"] == 25  # the event's dynamic values
    assert [q["id"] for q in client.get(f"/api/v1/events/{event.id}").get_json()["quests"]] == [quest.id]
    again = client.post(f"/api/v1/events/{event.id}/quests", json={"quest_id": quest.id}, headers=headers)
    assert again.status_code == 422 and "already part of an event" in error_of(again)["fields"]["quest_id"][0]
    removed = client.delete(f"/api/v1/events/{event.id}/quests/{quest.id}", headers=headers)
    assert removed.status_code == 200 and removed.get_json() == {"event_id": event.id, "quest_id": quest.id,
                                                                 "in_event": False}
    assert db.session.scalar(select(func.count()).select_from(EventQuest)) == 0
    assert client.delete(f"/api/v1/events/{event.id}/quests/{quest.id}", headers=headers).status_code == 404


def test_quests_in_play_refusals(client):
    organiser, rival = make_organiser(), make_organiser()
    event = upcoming_event(organiser)
    quest = make_quest(organiser, mode="team")
    url = f"/api/v1/events/{event.id}/quests"
    assert client.post(url, json={"quest_id": quest.id}).status_code == 401
    assert client.post(url, json={"quest_id": quest.id}, headers=read_token(organiser)).status_code == 403
    assert client.post(url, json={"quest_id": quest.id}, headers=auth(rival)).status_code == 403
    solo = client.post(url, json={"quest_id": make_quest(organiser, mode="solo").id}, headers=auth(organiser))
    assert solo.status_code == 422 and "choose a team quest" in error_of(solo)["fields"]["quest_id"][0]
    unknown = client.post(url, json={"quest_id": 99999}, headers=auth(organiser))
    assert unknown.status_code == 422 and list(error_of(unknown)["fields"]) == ["quest_id"]
    assert client.post(url, json={}, headers=auth(organiser)).status_code == 422
    assert client.post("/api/v1/events/999/quests", json={"quest_id": quest.id},
                       headers=auth(organiser)).status_code == 404
    set_times(event, starts_at=utcnow() - timedelta(hours=2), ends_at=utcnow() - timedelta(hours=1),
              registration_opens_at=utcnow() - timedelta(days=2), registration_closes_at=utcnow() - timedelta(hours=2))
    ended = client.post(url, json={"quest_id": quest.id}, headers=auth(organiser))
    assert ended.status_code == 409 and error_of(ended)["code"] == "event_quests_locked"


def test_taking_a_quest_out_refusals(client):
    organiser, rival = make_organiser(), make_organiser()
    event = make_event(organiser)  # running
    quest, = add_quests(organiser, event, 1)
    url = f"/api/v1/events/{event.id}/quests/{quest.id}"
    assert client.delete(url).status_code == 401
    assert client.delete(url, headers=read_token(organiser)).status_code == 403
    assert client.delete(url, headers=auth(rival)).status_code == 403
    started = client.delete(url, headers=auth(organiser))
    assert started.status_code == 409 and error_of(started)["code"] == "event_quests_locked"
    assert client.delete(f"/api/v1/events/{event.id}/quests/99999", headers=auth(organiser)).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(EventQuest)) == 1


# --- co-organisers ----------------------------------------------------------------------------

def test_organisers_add_co_organisers_with_organiser_accounts_once(client):
    organiser, helper, rival = make_organiser(), make_organiser(), make_organiser()
    event = make_event(organiser)
    url, headers = f"/api/v1/events/{event.id}/organisers", auth(organiser)
    added = client.post(url, json={"user_id": helper.id}, headers=headers)
    assert added.status_code == 201
    assert added.get_json() == {"event_id": event.id, "user_id": helper.id, "organiser": True}
    assert helper.email not in added.get_data(as_text=True)
    assert client.post(url, json={"user_id": helper.id}, headers=headers).status_code == 409
    assert client.post(url, json={"user_id": organiser.id}, headers=headers).status_code == 409  # its creator
    participant = client.post(url, json={"user_id": make_user().id}, headers=headers)
    assert participant.status_code == 422 and list(error_of(participant)["fields"]) == ["user_id"]
    assert client.post(url, json={"user_id": 99999}, headers=headers).status_code == 422
    assert client.post(url, json={"user_id": rival.id}).status_code == 401
    assert client.post(url, json={"user_id": rival.id}, headers=read_token(organiser)).status_code == 403
    assert client.post(url, json={"user_id": rival.id}, headers=auth(rival)).status_code == 403
    assert client.post("/api/v1/events/999/organisers", json={"user_id": helper.id}, headers=headers).status_code == 404
    assert db.session.scalars(select(EventOrganiser.user_id)).all() == [helper.id]
